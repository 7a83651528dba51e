package walkv

// Commands with subcommands are counted per subcommand, as Redis counts
// them (INFO's cmdstat_config|get, latency_percentiles_usec_client|list;
// the metrics' cmd="config|get"): each subcommand of subcommandArity has a
// pseudo-command in commandList, with counters of its own, that is never
// looked up or run.

// subcommandStats maps container → subcommand → its pseudo-command.
var subcommandStats = func() map[string]map[string]*command {
	m := map[string]map[string]*command{}
	for container, subs := range subcommandArity {
		m[container] = map[string]*command{}
		for sub := range subs {
			c := &command{name: container + "|" + sub, id: len(commandList)}
			commandList = append(commandList, c)
			m[container][sub] = c
		}
	}
	return m
}()

// cmdFor returns the counters of cmd run with args: those of its
// subcommand if it has one.
func (s *stats) cmdFor(cmd *command, args [][]byte) *cmdStat {
	if subs := subcommandStats[cmd.name]; subs != nil && len(args) > 1 {
		if sc := subs[lowerASCII(string(args[1]))]; sc != nil {
			return &s.cmds[sc.id]
		}
	}
	return &s.cmds[cmd.id]
}
