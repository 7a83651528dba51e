package walkv

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// cpuInfo is INFO's cpu section, from getrusage. walkv serves clients on
// several event loops, not one main thread: the *_main_thread fields
// report the whole process, as the other two do.
func cpuInfo() []infoField {
	var self, children unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &self)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &children)
	tv := func(t unix.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	return []infoField{
		{"used_cpu_sys", tv(self.Stime)}, {"used_cpu_user", tv(self.Utime)},
		{"used_cpu_sys_children", tv(children.Stime)}, {"used_cpu_user_children", tv(children.Utime)},
		{"used_cpu_sys_main_thread", tv(self.Stime)}, {"used_cpu_user_main_thread", tv(self.Utime)},
	}
}

// osName is INFO's os field: uname's system, release and machine.
func osName() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " +
		unix.ByteSliceToString(u.Machine[:])
}
