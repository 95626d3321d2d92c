package main

import (
	"fmt"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/bus"
)

func init() { commands = append(commands, newBusCmd) }

func newBusCmd() *cobra.Command {
	var (
		name, listen, store, cluster, clusterListen string
		routes                                      []string
		maxMemory, maxStore                         string
	)
	cmd := &cobra.Command{
		Use:   "bus",
		Short: "Run a NATS JetStream server node: the bus the other roles connect to",
		Long: `Bus runs NATS (nats-server, embedded in this binary) with JetStream on and
nothing else: a standalone bus for serve, learn and work on several machines,
or one node of a cluster (--cluster NAME --cluster-listen ADDR --routes
nats://OTHER:PORT,...; three nodes carry replicated streams, --nats-replicas 3
on the roles). Any NATS server with JetStream serves as well (tested: 2.15
embedded, Debian's 2.9.10). SIGINT/SIGTERM stop it cleanly: a clustered
node hands its stream leaderships over first.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mem, err := parseSize(maxMemory)
			if err != nil {
				return usagef("--max-memory: %v", err)
			}
			st, err := parseSize(maxStore)
			if err != nil {
				return usagef("--max-store: %v", err)
			}
			if listen == "" {
				return usagef("--listen is required: the address clients connect to")
			}
			if cluster != "" && clusterListen == "" {
				return usagef("--cluster needs --cluster-listen")
			}
			var rs []string
			for _, r := range routes {
				for _, u := range strings.Split(r, ",") {
					if u = strings.TrimSpace(u); u != "" {
						rs = append(rs, u)
					}
				}
			}
			errOut := cmd.ErrOrStderr()
			srv, err := bus.StartServer(bus.ServerConfig{
				Name: name, Listen: listen, StoreDir: store, MaxMemory: mem, MaxStore: st,
				Cluster: cluster, ClusterListen: clusterListen, Routes: rs,
				Logger: slog.New(slog.NewTextHandler(errOut, nil)),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(errOut, "tandem: bus %s listening on %s (JetStream in %s)\n", srv.Name(), srv.ClientURL(), store)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			srv.Shutdown()
			fmt.Fprintf(errOut, "tandem: bus %s stopped\n", srv.Name())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "server name (default tandem-RANDOM; cluster nodes need distinct ones)")
	fl.StringVar(&listen, "listen", "127.0.0.1:4222", "client address (0.0.0.0:4222 to accept other machines)")
	fl.StringVar(&store, "store", "./tandem-data/nats", "JetStream storage directory")
	fl.StringVar(&maxMemory, "max-memory", "256MiB", "JetStream memory limit")
	fl.StringVar(&maxStore, "max-store", "8GiB", "JetStream file storage limit")
	fl.StringVar(&cluster, "cluster", "", "cluster name (empty: standalone)")
	fl.StringVar(&clusterListen, "cluster-listen", "", "route address of this node (host:port)")
	fl.StringArrayVar(&routes, "routes", nil, "route URLs of the other nodes, nats://host:port (comma-separated or repeated)")
	return cmd
}
