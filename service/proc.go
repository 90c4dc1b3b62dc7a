package service

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// procCollector reports the process metrics the sandbox lets a service
// keep: Prometheus' own process collector opens files in /proc/self at
// every scrape, which a service without files cannot. This one reads
// /proc/self/stat through a descriptor opened before the sandbox closed.
// Open file descriptors and their limit are not reported.
type procCollector struct {
	stat                       *os.File
	start                      float64 // seconds since the epoch
	cpu, rss, vsize, startTime *prometheus.Desc
}

// The kernel's USER_HZ, the unit of times in /proc/<pid>/stat: 100 on
// every Linux architecture Go supports.
const userHZ = 100

func newProcCollector() (*procCollector, error) {
	f, err := os.Open("/proc/self/stat")
	if err != nil {
		return nil, err
	}
	c := &procCollector{
		stat:      f,
		cpu:       prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil),
		rss:       prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil),
		vsize:     prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil),
		startTime: prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil),
	}
	fields, err := c.fields()
	if err != nil {
		f.Close()
		return nil, err
	}
	ticks, _ := strconv.ParseFloat(fields[19], 64) // starttime, in ticks since boot
	c.start = float64(bootTime().Unix()) + ticks/userHZ
	return c, nil
}

// fields returns /proc/self/stat's fields after the command name, which
// may hold spaces: fields[0] is the state (field 3 in proc(5)).
func (c *procCollector) fields() ([]string, error) {
	buf := make([]byte, 1024)
	n, err := c.stat.ReadAt(buf, 0)
	if n == 0 {
		return nil, err
	}
	buf = buf[:n]
	i := bytes.LastIndexByte(buf, ')')
	f := strings.Fields(string(buf[i+1:]))
	if len(f) < 22 {
		return nil, os.ErrInvalid
	}
	return f, nil
}

func bootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					return time.Unix(s, 0)
				}
			}
		}
	}
	return time.Time{}
}

func (c *procCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cpu
	ch <- c.rss
	ch <- c.vsize
	ch <- c.startTime
}

func (c *procCollector) Collect(ch chan<- prometheus.Metric) {
	f, err := c.fields()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.cpu, err)
		return
	}
	num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
	// In proc(5) numbering minus 3: utime 14, stime 15, vsize 23, rss 24.
	ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, (num(11)+num(12))/userHZ)
	ch <- prometheus.MustNewConstMetric(c.vsize, prometheus.GaugeValue, num(20))
	ch <- prometheus.MustNewConstMetric(c.rss, prometheus.GaugeValue, num(21)*float64(os.Getpagesize()))
	ch <- prometheus.MustNewConstMetric(c.startTime, prometheus.GaugeValue, c.start)
}

// swapProcessCollector replaces Prometheus' process collector by one
// that works in the sandbox.
func (c *Chassis) swapProcessCollector() error {
	pc, err := newProcCollector()
	if err != nil {
		return err
	}
	c.Registry.Unregister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return c.Registry.Register(pc)
}
