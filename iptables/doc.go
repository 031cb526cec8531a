// Package iptables manages iptables rules on the nf_tables backend, writing
// exactly the bytes iptables-nft 1.8.9 writes.
package iptables
