// The usage line printed after every command-line error, and --help. The
// man page tcpproxy.1 says the same in more words; keep the two in step.
#include "tcpproxy/cli/cli.hpp"

namespace tcpproxy {

const char* usage_line() { return "usage: tcpproxy [options] [-b [IFACE:]PORT] [SERVER [ARGS...]] (see --help)"; }

std::string help_text()
{
    return R"(usage: tcpproxy [options] [-b [IFACE:]PORT] [SERVER [ARGS...]]

  tcpproxy [options] -b [IFACE:]PORT SERVER   standalone, one service on PORT
  tcpproxy [options] SERVER                   inetd: one connection on stdin
  tcpproxy [options] [-f FILE]                config mode (the file's services)
  tcpproxy --check-config [-f FILE]           validate the config file and exit
  tcpproxy --status [-f FILE] [-o DIR] [--metrics ADDRESS:PORT]
                                              list the running sessions (and
                                              the totals, from the metrics)
  tcpproxy --decode FILE [--client-out F] [--server-out F]
                                              print a traffic capture

SERVER is HOST[:PORT] (HOST a name, an IPv4 address or an [IPv6] address; no
PORT means the local port the client connected to), or a program beginning
with / or . that is run for each connection with the words after it as its
arguments.

Options:
  -a PROGRAM        access control program (exit 0 grants access)
  -b [IFACE:]PORT   listen on PORT (a number or a service name) on IFACE (an
                    IPv4 address, an [IPv6] address or a NIC name; all
                    interfaces if omitted); implies -s, needs SERVER
  -d                debug: diagnostics on stderr, stay in the foreground
  -e                run handler programs with an empty environment (only the
                    PROXY_ variables and PATH)
  -f FILE           config file instead of /etc/tcpproxy.conf
  -l NAME           syslog name (default tcpproxy)
  -n                do not resolve client names (CLIENTNAME is the IP)
  -o DIR            write status files into DIR
  -p                write the pidfile /var/run/tcpproxy.pid (standalone only)
  -pp FILE          write the pidfile FILE instead (-p -p FILE is the same)
  -q IP             source address for connections to the server
  -r MODE           redirect mode: none, accept, forward, forward-only (only)
  -s                standalone: bind the ports and wait for connections
  -t SECONDS        idle timeout, 0-31536000 (default 60; 0 = none)
  -u USER[.GROUP]   handle connections as USER and/or GROUP (USER:GROUP too)
  -v PREFIX         prefix of the handler variables instead of PROXY_
  -w BASENAME       capture each session's traffic in BASENAME.PID.SESSIONID.log
  -x                log extended connection info
  -A ACL            add [+|-]ADDR[/MASK] items, comma separated, to the client
                    ACL; may be repeated
  -E MODE,DIR,HANDLER
                    session handling for every exit code: MODE none (off),
                    keep or process, session logfiles in DIR, HANDLER (a
                    program run without arguments; needed for process only)
  -O DIR            session directory (the later of -E and -O sets it)
  --check-config    validate the config file, print its diagnostics, exit 0
                    when valid and 1 when not; binds and writes nothing
  --metrics ADDRESS:PORT
                    serve GET /metrics (Prometheus text format) on ADDRESS
                    (IPv4, [IPv6], or * for all) and PORT; standalone only;
                    clients outside metrics-acl (default: loopback) are refused
  --status          print the running sessions found in the status directory
  --decode FILE     print a traffic capture readably
  --client-out F    with --decode: write the client's bytes to F
  --server-out F    with --decode: write the server's bytes to F
  -h, --help        print this help and exit
  -V, --version     print the version and exit

Options come before SERVER. Single-letter options group as with getopt: -dn
is -d -n, and the last letter of a group may take its argument attached or as
the next word (-dnt30, -dnt 30). A later option overrides an earlier one; -A
adds up. Command-line settings override the config file, for every service.

Exit status: 0 done; 1 invalid config; 2 usage error; in inetd mode the
session's status (0 ok, 1 warning, 2 access, 3 connect, 4 timeout, 5 server,
6 client, 7 proxy).
)";
}

} // namespace tcpproxy
