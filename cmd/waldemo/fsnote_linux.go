package main

import "syscall"

// tmpfsMagic is TMPFS_MAGIC from linux/magic.h.
const tmpfsMagic = 0x01021994

// fsNote warns when dir is on tmpfs, where fsync costs nothing and the
// "always" figures say nothing about a disk.
func fsNote(dir string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) == nil && st.Type == tmpfsMagic {
		return dir + " is tmpfs (memory): fsync is free there; pass -dir on a real disk for meaningful figures"
	}
	return ""
}
