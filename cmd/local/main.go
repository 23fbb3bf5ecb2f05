// Command local runs the whole of Gangplank on this machine (make local).
package main

import (
	"context"
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
	state := flag.String("state", ".local", "directory for local keys and logs")
	awsAddr := flag.String("aws-addr", "127.0.0.1:4566", "local AWS listen address (AWS CLI profiles for customer accounts name it)")
	flag.Parse()
	logging.Setup()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := devserver.Run(ctx, devserver.Options{Addr: *addr, AWSAddr: *awsAddr, StateDir: *state, Out: os.Stdout, Demo: true}); err != nil {
		fmt.Fprintln(os.Stderr, "gangplank local:", err)
		os.Exit(1)
	}
}
