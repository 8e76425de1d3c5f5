// Command sshelf-mirror mirrors a local folder up to an sshelf server over
// one sshelf subsystem session, then verifies every file's SHA-256 on the
// server. It is the example batch job of the subsystem.
//
//	SSHELF_PASSWORD=... go run ./scripts/sshelf-mirror -addr host:2222 -user alice ./folder
//	go run ./scripts/sshelf-mirror -addr host:2222 -user alice -i ~/.ssh/id_ed25519 -download ./folder
//
// Only the folder's top-level regular files are mirrored (the shelf is one
// flat namespace). A file whose name the server already holds with the same
// hash is not sent again. The host key is checked against known_hosts
// (add it with `ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts` after
// comparing the fingerprint the server logs). Exit status: 0 all files
// mirrored and verified, 1 some failed, 2 usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/client"
)

func main() {
	os.Exit(run())
}

func run() int {
	addr := flag.String("addr", "", "server address, host:port (required)")
	user := flag.String("user", os.Getenv("USER"), "account name")
	identity := flag.String("i", "", "private key file for public key login (unencrypted)")
	knownHosts := flag.String("known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts)")
	hidden := flag.Bool("hidden", false, "upload as hidden files")
	download := flag.Bool("download", false, "verify by downloading every file too")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: sshelf-mirror -addr HOST:PORT [-user NAME] [-i KEY] [-hidden] [-download] FOLDER\n"+
			"The account password, if any, comes from $SSHELF_PASSWORD.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *addr == "" || flag.NArg() != 1 {
		flag.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	cfg := client.Config{User: *user, Password: os.Getenv("SSHELF_PASSWORD")}
	if *identity != "" {
		pem, err := os.ReadFile(*identity)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sshelf-mirror:", err)
			return 2
		}
		if cfg.Signer, err = ssh.ParsePrivateKey(pem); err != nil {
			fmt.Fprintf(os.Stderr, "sshelf-mirror: %s: %v\n", *identity, err)
			return 2
		}
	}
	var files []string
	if *knownHosts != "" {
		files = append(files, *knownHosts)
	}
	var err error
	if cfg.HostKeyCallback, cfg.HostKeyAlgorithms, err = client.KnownHosts(*addr, files...); err != nil {
		fmt.Fprintln(os.Stderr, "sshelf-mirror:", err)
		return 2
	}
	c, err := client.Dial(ctx, *addr, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sshelf-mirror:", err)
		return 1
	}
	defer c.Close()
	failed, err := mirror(ctx, c, flag.Arg(0), options{Hidden: *hidden, Download: *download}, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sshelf-mirror:", err)
		return 1
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "sshelf-mirror: %d file(s) failed\n", failed)
		return 1
	}
	return 0
}
