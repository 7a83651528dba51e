//go:build !linux

package walkv

import "runtime"

// cpuInfo is INFO's cpu section: unknown on this system.
func cpuInfo() []infoField {
	return []infoField{
		{"used_cpu_sys", "0.000000"}, {"used_cpu_user", "0.000000"},
		{"used_cpu_sys_children", "0.000000"}, {"used_cpu_user_children", "0.000000"},
		{"used_cpu_sys_main_thread", "0.000000"}, {"used_cpu_user_main_thread", "0.000000"},
	}
}

func osName() string { return runtime.GOOS + " " + runtime.GOARCH }
