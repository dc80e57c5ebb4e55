package tfstate

import (
	"errors"
	"strconv"
	"testing"
)

// tofuEncrypted is an OpenTofu 1.10 encrypted state as tofu writes it:
// serial and lineage in plain text, the state itself in encrypted_data.
func tofuEncrypted(serial int, lineage, data string) []byte {
	head := ""
	if lineage != "" {
		head = `"serial":` + strconv.Itoa(serial) + `,"lineage":"` + lineage + `",`
	}
	return []byte(`{` + head + `"meta":{"key_provider.pbkdf2.k":"eyJzYWx0IjoiM09u"},"encrypted_data":"` + data + `","encryption_version":"v0"}`)
}

func TestParseEncrypted(t *testing.T) {
	t.Parallel()
	h, err := Parse(tofuEncrypted(3, "lin-enc", "m+NIlGU4K84b"))
	if !errors.Is(err, ErrEncrypted) || !h.Encrypted || h.Serial != 3 || h.Lineage != "lin-enc" || len(h.Addresses()) != 0 {
		t.Fatalf("encrypted with plain header: %+v, %v", h, err)
	}
	h, err = Parse(tofuEncrypted(0, "", "m+NIlGU4K84b"))
	if !errors.Is(err, ErrEncrypted) || !h.Encrypted || h.Serial != 0 || h.Lineage != "" {
		t.Fatalf("encrypted without plain header: %+v, %v", h, err)
	}
	if _, err := Parse([]byte(`{"serial":1}`)); err == nil || errors.Is(err, ErrEncrypted) {
		t.Fatalf("not a state: %v", err)
	}
}

func TestParseAddresses(t *testing.T) {
	t.Parallel()
	h, err := Parse([]byte(`{"version":4,"serial":2,"lineage":"l","resources":[{"mode":"managed","type":"a","name":"x"},{"module":"module.m","mode":"managed","type":"b","name":"y"},{"mode":"data","type":"c","name":"z"}]}`))
	if err != nil || h.Serial != 2 || len(h.Addresses()) != 2 || h.Addresses()[0] != "a.x" || h.Addresses()[1] != "module.m.b.y" {
		t.Fatalf("%+v %v: %v", h, err, h.Addresses())
	}
	if MD5Hex([]byte("")) != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatal("md5 of nothing")
	}
}
