//go:build !linux

package main

// fsNote has nothing to say where the filesystem type is not checked.
func fsNote(string) string { return "" }
