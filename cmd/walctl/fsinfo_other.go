//go:build !linux

package main

// fsType names the filesystem holding dir; unknown off Linux.
func fsType(string) string { return "" }
