package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-help"}, &out); err != nil {
		t.Fatalf("run -help: %v", err)
	}
	for _, want := range []string{"Usage: waldemo", "-rounds", "-seed", "-dir", "-bench-duration", "-skip-bench", "-skip-crash"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), childArg) {
		t.Errorf("usage shows the hidden %s:\n%s", childArg, out.String())
	}
}

func TestRunBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-rounds", "0"}, "-rounds 0 outside"},
		{[]string{"-bench-duration", "0s"}, "-bench-duration 0s must be positive"},
	} {
		var out bytes.Buffer
		err := run(tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error mentioning %q", tc.args, err, tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("run(%q) printed %q; errors are only returned", tc.args, out.String())
		}
	}
}

func TestRunBench(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"-skip-crash", "-bench-duration", "20ms", "-dir", t.TempDir()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		for _, w := range []string{" 1 ", " 16 "} {
			if !strings.Contains(out.String(), "\n"+p.String()) || !strings.Contains(out.String(), w) {
				t.Errorf("table lacks row %s/%s:\n%s", p, w, out.String())
			}
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
