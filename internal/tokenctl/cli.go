package tokenctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Program is the name used in help and error messages.
const Program = "tokenctl"

// Main runs one tokenctl command line (args without the program name): results and help
// go to stdout, a failure is one line "tokenctl: ..." on stderr. It returns the exit code:
// 0, or 1 for any failure.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := Run(ctx, args, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", Program, OneLine(err))
		return 1
	}
	return 0
}

// globals are the flags every cluster command accepts, before or after its name.
type globals struct {
	kubeconfig string
	timeout    time.Duration
}

// bind defines the flags on fs with the values g holds as defaults, so that a command's
// flag set keeps what was given before the command name.
func (g *globals) bind(fs *pflag.FlagSet) {
	fs.StringVar(&g.kubeconfig, "kubeconfig", g.kubeconfig, "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.DurationVar(&g.timeout, "request-timeout", g.timeout, "how long to wait for each API request")
}

// Run runs one command line (args without the program name), writing its results, or
// the help asked for with --help, to out. Errors name the command, the flag or the
// server involved; they are meant to be printed with OneLine.
func Run(ctx context.Context, args []string, out io.Writer) error {
	g := &globals{timeout: DefaultRequestTimeout}
	top := newFlagSet(Program)
	g.bind(top)
	top.SetInterspersed(false) // flags after the command name are the command's
	if err := top.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return printHelp(out, top)
		}
		return err
	}
	rest := top.Args()
	if len(rest) == 0 {
		return fmt.Errorf("missing command; run '%s --help' for the list", Program)
	}
	cmd, rest, err := lookup(rest, out)
	if cmd == nil || err != nil {
		return err
	}
	return cmd.run(ctx, g, rest, out)
}

// lookup finds the command named at the start of args. For a group name followed by
// --help it prints the group's commands and returns no command and no error.
func lookup(args []string, out io.Writer) (*command, []string, error) {
	name := args[0]
	if subs := groupCommands(name); len(subs) > 0 {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			if len(args) >= 2 && (args[1] == "--help" || args[1] == "-h") {
				return nil, nil, printGroupHelp(out, name, subs)
			}
			return nil, nil, fmt.Errorf("%s needs a subcommand: %s", name, strings.Join(subNames(subs), ", "))
		}
		full := name + " " + args[1]
		for _, c := range commands {
			if c.name == full {
				return c, args[2:], nil
			}
		}
		return nil, nil, fmt.Errorf("unknown command %q (%s subcommands: %s)", full, name, strings.Join(subNames(subs), ", "))
	}
	for _, c := range commands {
		if c.name == name {
			return c, args[1:], nil
		}
	}
	return nil, nil, fmt.Errorf("unknown command %q; run '%s --help' for the list", name, Program)
}

// run parses the command's flags, connects when the command needs a cluster, and runs it.
func (c *command) run(ctx context.Context, g *globals, args []string, out io.Writer) error {
	fs := newFlagSet(Program + " " + c.name)
	if c.cluster {
		g.bind(fs)
	}
	act := c.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return c.printHelp(out, fs)
		}
		return fmt.Errorf("%s: %w", c.name, err)
	}
	pos := fs.Args()
	if len(pos) < c.minArgs || (c.maxArgs >= 0 && len(pos) > c.maxArgs) {
		return fmt.Errorf("%s: wrong arguments %q; usage: %s", c.name, pos, c.usage())
	}
	inv := &invocation{out: out, args: pos}
	if !c.cluster {
		return act(ctx, inv)
	}
	client, cfg, err := connect(g.kubeconfig, g.timeout)
	if err != nil {
		return err
	}
	inv.client, inv.config = client, cfg
	return explain(act(ctx, inv), cfg.Host)
}

// newFlagSet makes a flag set that reports errors instead of printing them, so that the
// caller prints exactly one line.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	return fs
}

func printHelp(out io.Writer, top *pflag.FlagSet) error {
	fmt.Fprintf(out, "%s manages bootstrap tokens, static token files, bootstrap RBAC, bootstrap kubeconfigs,\nthe cluster-info that token discovery reads, and certificate signing requests for\nkubelet TLS bootstrapping.\n\n", Program)
	fmt.Fprintf(out, "Usage:\n  %s [--kubeconfig FILE] <command> [flags] [args]\n\nCommands:\n", Program)
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(w, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nGlobal flags (cluster commands also take them after their name):\n%s\nRun '%s <command> --help' for a command's flags.\n", top.FlagUsages(), Program)
	return nil
}

func printGroupHelp(out io.Writer, group string, subs []*command) error {
	fmt.Fprintf(out, "Usage:\n  %s %s <subcommand> [flags]\n\nSubcommands:\n", Program, group)
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	for _, c := range subs {
		fmt.Fprintf(w, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	return w.Flush()
}

func (c *command) printHelp(out io.Writer, fs *pflag.FlagSet) error {
	text := c.summary
	if c.long != "" {
		text += "\n\n" + c.long
	}
	_, err := fmt.Fprintf(out, "%s\n\nUsage:\n  %s\n\nFlags:\n%s", text, c.usage(), fs.FlagUsages())
	return err
}

func (c *command) usage() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s [flags] %s", Program, c.name, c.args))
}

// groupCommands are the commands named "<group> <sub>".
func groupCommands(group string) []*command {
	var subs []*command
	for _, c := range commands {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == group {
			subs = append(subs, c)
		}
	}
	return subs
}

func subNames(subs []*command) []string {
	names := make([]string, 0, len(subs))
	for _, c := range subs {
		_, sub, _ := strings.Cut(c.name, " ")
		names = append(names, sub)
	}
	return slices.Compact(names)
}

// CommandNames lists every command as typed, e.g. "create", "rbac apply".
func CommandNames() []string {
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// command is one tokenctl command.
type command struct {
	// name is what the user types: "create", "rbac apply".
	name string
	// args describes the positional arguments, for help.
	args string
	// minArgs and maxArgs bound the positional arguments; maxArgs -1 means no limit.
	minArgs, maxArgs int
	summary          string
	// long, when set, follows the summary in the command's --help.
	long string
	// cluster commands get --kubeconfig and a client.
	cluster bool
	// bind defines the command's flags on fs and returns what runs it once they are parsed.
	bind func(fs *pflag.FlagSet) action
}

// action runs a command whose flags are parsed.
type action func(ctx context.Context, inv *invocation) error

// invocation is what an action works with.
type invocation struct {
	out    io.Writer
	args   []string
	client kubernetes.Interface // nil for commands without a cluster
	config *rest.Config         // what client was made from; nil for commands without a cluster
}
