package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestEveryReadmeInputIsDeclared: every input README.md's "Inputs and
// settings" table documents is an input of action.yml (the runner warns
// "Unexpected input(s)" and the container never sees one that is not).
func TestEveryReadmeInputIsDeclared(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Inputs and settings\n")
	if !ok {
		t.Fatal("README.md has no Inputs and settings section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	name := regexp.MustCompile("`([a-z][a-z0-9-]*)`")
	var documented int
	inTable := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "| input "):
			inTable = true
			continue
		case !strings.HasPrefix(line, "|"):
			inTable = false
			continue
		case !inTable || strings.HasPrefix(line, "|---"):
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			documented++
			if _, ok := a.Inputs[m[1]]; !ok {
				t.Errorf("README.md documents input %q, which action.yml does not declare", m[1])
			}
		}
	}
	if documented < 20 {
		t.Fatalf("read only %d inputs from README.md's table", documented)
	}
}
