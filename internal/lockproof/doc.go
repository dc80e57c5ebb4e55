// Package lockproof holds the multi-process proofs of the apply lock: the
// built prstate binary runs as separate processes against moto (through a
// fault-injecting proxy where asked) and real Terraform, and a benchmark
// compares the lock's handoff with terraform apply -lock-timeout.
package lockproof
