// Package tfstate reads what prstate needs of a Terraform or OpenTofu
// state file (its header and managed resources, its md5 digest) and the
// marks a seed leaves beside a PR state: metadata on the object and the
// seed record. See ARCHITECTURE.md.
package tfstate

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrEncrypted is returned when the state is encrypted (OpenTofu state encryption), so its
// resources cannot be read. Parse returns it with what the envelope
// shows in plain text (serial and lineage, when there).
var ErrEncrypted = errors.New("the state is encrypted (OpenTofu state encryption): its resources cannot be read")

// Header is what prstate reads of a Terraform state file.
type Header struct {
	Version   int    `json:"version"`
	Serial    int64  `json:"serial"`
	Lineage   string `json:"lineage"`
	Resources []struct {
		Module string `json:"module"`
		Mode   string `json:"mode"`
		Type   string `json:"type"`
		Name   string `json:"name"`
	} `json:"resources"`
	// Encrypted is set for an OpenTofu encrypted state: an envelope of
	// encrypted_data, encryption_version and meta (key provider data),
	// with serial and lineage in plain text (OpenTofu 1.10 writes them).
	Encrypted bool `json:"-"`
}

// envelope is the plain-text part of an OpenTofu encrypted state.
type envelope struct {
	EncryptedData     *string `json:"encrypted_data"`
	EncryptionVersion string  `json:"encryption_version"`
}

// Parse reads a state file's header and resources. For an encrypted
// state it returns the header with Encrypted set (serial and lineage where
// they are plain text, zero otherwise) and ErrEncrypted: its resources are
// unknown, never "none".
func Parse(body []byte) (Header, error) {
	var h Header
	if err := json.Unmarshal(body, &h); err != nil {
		return Header{}, fmt.Errorf("failed to parse state: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err == nil && env.EncryptedData != nil && h.Version == 0 {
		return Header{Serial: h.Serial, Lineage: h.Lineage, Encrypted: true}, ErrEncrypted
	}
	if h.Version == 0 || h.Lineage == "" {
		return Header{}, errors.New("failed to parse state: not a Terraform state (no version or lineage)")
	}
	return h, nil
}

// Addresses lists the managed resources' addresses (module.x.type.name).
func (h Header) Addresses() []string {
	var out []string
	for _, r := range h.Resources {
		if r.Mode != "managed" {
			continue
		}
		a := r.Type + "." + r.Name
		if r.Module != "" {
			a = r.Module + "." + a
		}
		out = append(out, a)
	}
	return out
}

// MD5Hex is the hex md5 of a state: Terraform's digest item value.
func MD5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
