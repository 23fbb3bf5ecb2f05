// Command local runs the whole of Gangplank on this machine (make local).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gangplank/gangplank/pkg/devserver"
	"github.com/gangplank/gangplank/pkg/logging"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "API listen address")
	consoleAddr := flag.String("console-addr", "127.0.0.1:8081", "web console listen address (empty: no console)")
	consoleDir := flag.String("console-dir", "console/dist", "the built web console")
	state := flag.String("state", ".local", "directory for local keys and logs")
	demo := flag.Bool("demo", true, "put a sample organization with tagged resources in the local AWS")
	readyFile := flag.String("ready-file", "", "write where everything listens (JSON) to this file once it serves")
	awsAddr := flag.String("aws-addr", "127.0.0.1:4566", "local AWS listen address (AWS CLI profiles for customer accounts name it)")
	flag.Parse()
	logging.Setup()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := devserver.Options{Addr: *addr, AWSAddr: *awsAddr, ConsoleAddr: *consoleAddr, ConsoleDir: *consoleDir, StateDir: *state, Demo: *demo, Out: os.Stdout}
	if *readyFile != "" {
		o.Started = func(s devserver.Started) {
			b, _ := json.Marshal(s)
			// Written whole, then renamed: a reader never sees half a file.
			if err := os.WriteFile(*readyFile+".tmp", b, 0o600); err == nil {
				_ = os.Rename(*readyFile+".tmp", *readyFile)
			}
		}
	}
	if err := devserver.Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gangplank local:", err)
		os.Exit(1)
	}
}
