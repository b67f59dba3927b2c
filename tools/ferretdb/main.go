// Command ferretdb runs FerretDB 1.24 (SQLite backend) as the project's
// MongoDB-compatible server for development and tests; scripts/services builds
// and starts it.
//
// Why this wrapper exists: `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// compiles, but the binary panics at start-up because build/version/version.txt
// is generated at release time and is not in the module zip. The embeddable
// package github.com/FerretDB/FerretDB/ferretdb skips that check when the main
// module is not FerretDB itself, so a tiny main that embeds it works.
//
// It also has a -ping mode that speaks the real wire protocol (official Go
// MongoDB driver) so the services script can do a true readiness check.
//
// Usage:
//
//	ferretdb -listen-addr 127.0.0.1:27017 -sqlite-dir /var/lib/x/ferretdb [-pidfile F] [-log-level info]
//	ferretdb -ping mongodb://127.0.0.1:27017/ [-ping-timeout 2s]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteDir := flag.String("sqlite-dir", "", "directory for SQLite database files (created if missing); ignored if -sqlite-url is set")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URI (directory), e.g. file:/var/lib/data/ (must end with /)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	pidFile := flag.String("pidfile", "", "write the process id to this file while running")
	ping := flag.String("ping", "", "do not serve: connect to this MongoDB URI, run the ping command, exit 0 on success")
	pingTimeout := flag.Duration("ping-timeout", 2*time.Second, "timeout for -ping")
	flag.Parse()

	if *ping != "" {
		if err := doPing(*ping, *pingTimeout); err != nil {
			fmt.Fprintf(os.Stderr, "ping %s: %v\n", *ping, err)
			os.Exit(1)
		}
		fmt.Println("ok")
		return
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatalf("bad -log-level %q: %v", *logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	u := *sqliteURL
	if u == "" {
		if *sqliteDir == "" {
			fatalf("one of -sqlite-dir or -sqlite-url is required")
		}
		dir, err := filepath.Abs(*sqliteDir)
		if err != nil {
			fatalf("bad -sqlite-dir: %v", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fatalf("create -sqlite-dir: %v", err)
		}
		// FerretDB wants a file: URI naming a directory, with a trailing slash.
		u = (&url.URL{Scheme: "file", Opaque: strings.TrimSuffix(dir, "/") + "/"}).String()
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: u,
	})
	if err != nil {
		fatalf("%v", err)
	}

	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			fatalf("write pidfile: %v", err)
		}
		defer os.Remove(*pidFile)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("starting FerretDB", "listen", *listenAddr, "sqlite", u)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with error", "error", err)
		os.Exit(1)
	}
	logger.Info("FerretDB stopped")
}

// doPing connects with the official driver and runs {ping: 1} on admin.
func doPing(uri string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck // best effort

	return client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb: "+format+"\n", args...)
	os.Exit(2)
}
