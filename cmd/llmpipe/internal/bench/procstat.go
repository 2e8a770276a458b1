package bench

import (
	"bufio"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is this process's resource use at one instant.
type usage struct {
	cpu     time.Duration // user + system
	mallocs uint64
}

func readUsage() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return usage{
		cpu:     time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		mallocs: ms.Mallocs,
	}
}

// resetPeakRSS returns memory to the OS and resets the kernel's peak RSS
// (VmHWM) so the next peakRSS reading covers one scenario only; it returns
// the RSS left after the reset, the scenario's baseline.
func resetPeakRSS() int64 {
	goruntime.GC()
	debug.FreeOSMemory()
	// "5" resets the peak resident set size (Linux ≥ 4.0); without it
	// the figure is the process's peak so far, an upper bound.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return procStatus("VmRSS")
}

func peakRSS() int64 { return procStatus("VmHWM") }

// procStatus reads a "kB" field of /proc/self/status in bytes, -1 if absent.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return -1
		}
		return n << 10
	}
	return -1
}
