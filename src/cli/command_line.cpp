// The argv walker for reference §2.
//
// Why a hand parser and not getopt_long(3) or Boost.Program_options:
// `-pp FILE` / `-p -p FILE` make the second -p take an argument that the first
// does not, which neither can express; getopt also keeps global state and
// prints its own messages, and Program_options does not group short options
// the getopt way (-dnt30) nor stop at the first operand, which we need because
// a program SERVER is followed by its own arguments. The rules below are
// getopt's (POSIX mode) otherwise:
//   * single letters group: -dn = -d -n; a letter that takes an argument ends
//     the group and takes the rest of the word (-t30, -dnt30) or else the next
//     word (-t 30), whatever that word looks like;
//   * long options: --name, --name=VALUE or --name VALUE; exact names only;
//   * "--" ends the options; "-" alone is an operand;
//   * the first operand (SERVER) ends the options: the words after a program
//     SERVER are its arguments; after a HOST[:PORT] SERVER nothing may follow.
//   * a later option overrides an earlier one; -A adds up.
#include "tcpproxy/cli/cli.hpp"

#include "tcpproxy/cli/bind_spec.hpp"
#include "tcpproxy/config/values.hpp"
#include "tcpproxy/core/text.hpp"
#include "tcpproxy/grammar/values.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace tcpproxy {

namespace {

using namespace std::string_literals;

constexpr std::string_view prefix = "tcpproxy: ";

// One step of the walk: done, or the one-line error that ends it.
using Step = Result<void>;

std::unexpected<Error> refuse(const std::string& what) { return fail(std::string(prefix) + what); }

constexpr std::string_view default_pidfile = "/var/run/tcpproxy.pid";

struct OptionInfo {
    std::string_view name; // "-t", "--decode"
    const char* argument;  // what it takes, for messages; nullptr = a flag
};

constexpr std::array<OptionInfo, 21> short_options{{
    {"-a", "PROGRAM"},
    {"-b", "[IFACE:]PORT"},
    {"-d", nullptr},
    {"-e", nullptr},
    {"-f", "FILE"},
    {"-h", nullptr},
    {"-l", "NAME"},
    {"-n", nullptr},
    {"-o", "DIR"},
    {"-q", "IP"},
    {"-r", "MODE"},
    {"-s", nullptr},
    {"-t", "SECONDS"},
    {"-u", "USER[.GROUP]"},
    {"-v", "PREFIX"},
    {"-w", "BASENAME"},
    {"-x", nullptr},
    {"-A", "ACL"},
    {"-E", "MODE,DIR,HANDLER"},
    {"-O", "DIR"},
    {"-V", nullptr},
}};
// -p is not in the table: whether it takes an argument depends on whether a
// -p came before (see Parser::pidfile_option).

constexpr std::array<OptionInfo, 8> long_options{{
    {"--check-config", nullptr},
    {"--status", nullptr},
    {"--decode", "FILE"},
    {"--client-out", "FILE"},
    {"--server-out", "FILE"},
    {"--help", nullptr},
    {"--version", nullptr},
    {"--metrics", "ADDRESS:PORT"},
}};

const OptionInfo* find_option(std::string_view name)
{
    for (const auto& table : {std::span<const OptionInfo>(short_options), std::span<const OptionInfo>(long_options)})
        for (const OptionInfo& o : table)
            if (o.name == name)
                return &o;
    return nullptr;
}

// "-Z" for a printable letter; any other byte (a control character, half of
// a UTF-8 sequence) is shown as \xNN so the message stays one clean line.
std::string short_name(char letter)
{
    const auto c = static_cast<unsigned char>(letter);
    if (c > 0x20 && c < 0x7f)
        return std::string{'-', letter};
    static constexpr char hex[] = "0123456789abcdef";
    return std::string{'-', '\\', 'x', hex[c >> 4], hex[c & 0xf]};
}

// The values of the options are the config file's (grammar/values.hpp);
// only -A and -E put several of them in one word.

// -A: ACL items separated by commas (blanks after a comma allowed).
Result<Acl> acl_list(std::string_view text)
{
    Acl acl;
    for (const grammar::ListItem& piece : grammar::list_items(text)) {
        if (piece.text.empty())
            return fail("empty ACL item in " + text::quoted(text));
        auto entry = grammar::acl_item(piece.text);
        if (!entry)
            return fail("ACL item " + text::quoted(piece.text) + ": " + entry.error().message);
        acl.push_back(entry->item);
    }
    return acl;
}

// -E MODE[,DIR[,HANDLER]]: the three settings of session-mode, session-dir
// and exit-handler in one word. keep needs DIR; process needs DIR and HANDLER
// (one program, run without arguments); none (off) needs neither. An empty
// DIR or HANDLER leaves that setting alone.
struct SessionOption {
    SessionMode mode = SessionMode::none;
    std::string dir;
    std::string handler;
};

Result<SessionOption> session_option(std::string_view text)
{
    // Split at the first two commas only: the handler path may hold commas.
    const auto first = text.find(',');
    const std::string_view mode_text = text.substr(0, first);
    SessionOption opt;
    if (first != std::string_view::npos) {
        const std::string_view rest = text.substr(first + 1);
        const auto second = rest.find(',');
        opt.dir = rest.substr(0, second);
        if (second != std::string_view::npos)
            opt.handler = rest.substr(second + 1);
    }
    const auto mode = grammar::session_mode(mode_text);
    if (!mode)
        return std::unexpected(mode.error());
    opt.mode = *mode;
    if (opt.mode == SessionMode::none)
        return opt;
    const bool process = opt.mode == SessionMode::process;
    if (opt.dir.empty())
        return fail("mode " + std::string(mode_text) + " needs a session DIR (" + std::string(mode_text) + ",DIR" +
                    (process ? ",HANDLER)" : ")"));
    if (process && opt.handler.empty())
        return fail("mode process needs a HANDLER (process,DIR,HANDLER)");
    return opt;
}

class Parser {
public:
    Parser(int argc, const char* const argv[])
    {
        for (int i = 1; i < argc; ++i)
            words_.emplace_back(argv[i] ? argv[i] : "");
    }

    Result<CommandLine> run()
    {
        Step done = walk();
        if (done && !finished_)
            done = check_combination();
        if (!done)
            return std::unexpected(std::move(done.error()));
        return std::move(cl_);
    }

private:
    // Stops at the first error, or early (finished_) at -h or -V.
    Step walk()
    {
        while (next_ < words_.size() && !finished_) {
            const std::string_view word = words_[next_++];
            if (word == "--") {
                take_operands();
                break;
            }
            Step done;
            if (word.starts_with("--"))
                done = long_option(word);
            else if (word.size() > 1 && word.front() == '-')
                done = short_group(word);
            else {
                --next_;
                take_operands();
                break;
            }
            if (!done)
                return done;
        }
        return {};
    }

    void take_operands()
    {
        operands_.assign(words_.begin() + static_cast<std::ptrdiff_t>(next_), words_.end());
        next_ = words_.size();
    }

    Step long_option(std::string_view word)
    {
        const auto eq = word.find('=');
        const std::string_view name = word.substr(0, eq);
        const OptionInfo* info = find_option(name);
        if (!info || !name.starts_with("--"))
            return refuse("unknown option " + std::string(name));
        if (!info->argument) {
            if (eq != std::string_view::npos)
                return refuse("option " + std::string(name) + " takes no argument");
            return apply(*info, {});
        }
        if (eq != std::string_view::npos)
            return apply(*info, word.substr(eq + 1));
        if (next_ >= words_.size())
            return missing_argument(*info);
        return apply(*info, words_[next_++]);
    }

    Step short_group(std::string_view word)
    {
        for (std::size_t i = 1; i < word.size() && !finished_; ++i) {
            const std::string name{'-', word[i]};
            const OptionInfo* info = nullptr;
            OptionInfo pid_with_file{"-p", "FILE"};
            if (word[i] == 'p') {
                if (!pidfile_option())
                    continue; // the first -p: a flag
                info = &pid_with_file;
            } else {
                info = find_option(name);
            }
            if (!info)
                return refuse("unknown option " + short_name(word[i]));
            if (!info->argument) {
                if (Step done = apply(*info, {}); !done)
                    return done;
                continue;
            }
            // An option with an argument ends the group.
            if (i + 1 < word.size())
                return apply(*info, word.substr(i + 1));
            if (next_ >= words_.size())
                return missing_argument(*info);
            return apply(*info, words_[next_++]);
        }
        return {};
    }

    // The first -p sets the default pidfile and takes no argument; any later
    // -p (-pp FILE, -p -p FILE) names the file. Returns true for the latter.
    bool pidfile_option()
    {
        note("-p");
        if (pid_seen_)
            return true;
        pid_seen_ = true;
        cl_.pidfile = std::string(default_pidfile);
        return false;
    }

    Step missing_argument(const OptionInfo& info)
    {
        return refuse("option " + std::string(info.name) + " needs an argument (" + info.argument + ")");
    }

    void note(std::string_view name)
    {
        if (std::find(given_.begin(), given_.end(), name) == given_.end())
            given_.emplace_back(name);
    }

    Step set_action(CommandLine::Action action, std::string_view name)
    {
        if (action_option_.empty() || action_option_ == name) {
            action_option_ = name;
            cl_.action = action;
            return {};
        }
        return refuse(std::string(action_option_) + " and " + std::string(name) + " cannot be used together");
    }

    Step apply(const OptionInfo& info, std::string_view value)
    {
        const std::string_view name = info.name;
        note(name);
        const std::string opt = std::string(prefix) + "option " + std::string(name) + ": ";
        if (info.argument && value.empty())
            return fail(opt + "empty " + info.argument);

        auto fail_or = [&](const auto& parsed, auto&& store) {
            if (!parsed)
                return Step(fail(opt + parsed.error().message));
            store(*parsed);
            return Step();
        };

        switch (name.size() == 2 ? name[1] : '\0') {
        case 'a':
            cl_.acp = value;
            return {};
        case 'b':
            return fail_or(cli::parse_bind(value), [&](const cli::BindSpec&) {
                cl_.bind = value;
                cl_.standalone = true;
            });
        case 'd':
            cl_.debug = true;
            return {};
        case 'e':
            cl_.empty_env = true;
            return {};
        case 'f':
            cl_.config_file = value;
            cl_.config_file_given = true;
            return {};
        case 'h':
            cl_.action = CommandLine::Action::help;
            finished_ = true;
            return {};
        case 'l':
            return fail_or(grammar::logname(value), [&](const std::string& name) { cl_.logname = name; });
        case 'n':
            cl_.no_resolve = true;
            return {};
        case 'o':
            cl_.statdir = value;
            return {};
        case 'p':
            cl_.pidfile = value;
            return {};
        case 'q':
            return fail_or(grammar::ip_address(value), [&](const IpAddress& ip) { cl_.srcip = ip; });
        case 'r':
            return fail_or(grammar::redirect_mode(value), [&](RedirectMode m) { cl_.redirect = m; });
        case 's':
            cl_.standalone = true;
            return {};
        case 't':
            return fail_or(grammar::seconds(value), [&](unsigned t) { cl_.timeout = t; });
        case 'u':
            cl_.user = value;
            return {};
        case 'v':
            return fail_or(grammar::var_prefix(value), [&](const std::string& p) { cl_.var_prefix = p; });
        case 'w':
            cl_.writefile = value;
            return {};
        case 'x':
            cl_.extended_info = true;
            return {};
        case 'A':
            return fail_or(acl_list(value),
                           [&](const Acl& acl) { cl_.acl.insert(cl_.acl.end(), acl.begin(), acl.end()); });
        case 'E':
            return fail_or(session_option(value), [&](const SessionOption& s) {
                cl_.session_mode = s.mode;
                if (!s.dir.empty())
                    cl_.session_dir = s.dir;
                if (!s.handler.empty())
                    cl_.exit_handler = std::vector<std::string>{s.handler};
            });
        case 'O':
            cl_.session_dir = value;
            return {};
        case 'V':
            cl_.action = CommandLine::Action::version;
            finished_ = true;
            return {};
        default:
            break;
        }

        if (name == "--check-config")
            return set_action(CommandLine::Action::check_config, name);
        if (name == "--status")
            return set_action(CommandLine::Action::status, name);
        if (name == "--decode") {
            cl_.decode_file = value;
            return set_action(CommandLine::Action::decode, name);
        }
        if (name == "--metrics")
            return fail_or(parse_metrics_address(std::string(value)), [&](const Endpoint& e) { cl_.metrics = e; });
        if (name == "--client-out") {
            cl_.decode_client_out = value;
            return {};
        }
        if (name == "--server-out") {
            cl_.decode_server_out = value;
            return {};
        }
        if (name == "--help") {
            cl_.action = CommandLine::Action::help;
            finished_ = true;
            return {};
        }
        if (name == "--version") {
            cl_.action = CommandLine::Action::version;
            finished_ = true;
            return {};
        }
        return refuse("unknown option " + std::string(name)); // not reached: table and switch agree
    }

    // Options allowed besides the action's own, for the actions that take few.
    Step only_these(std::string_view action, std::initializer_list<std::string_view> allowed)
    {
        for (const std::string& g : given_)
            if (g != action && std::find(allowed.begin(), allowed.end(), g) == allowed.end())
                return refuse("option " + g + " cannot be used with " + std::string(action));
        if (!operands_.empty())
            return refuse(std::string(action) + " takes no SERVER, got " + text::quoted(operands_.front()));
        return {};
    }

    bool given(std::string_view name) const { return std::find(given_.begin(), given_.end(), name) != given_.end(); }

    Step check_combination()
    {
        using Action = CommandLine::Action;
        for (std::string_view out : {"--client-out", "--server-out"})
            if (given(out) && cl_.action != Action::decode)
                return refuse("option " + std::string(out) + " needs --decode FILE");
        switch (cl_.action) {
        case Action::check_config:
            return only_these("--check-config", {"-f"});
        case Action::status:
            return only_these("--status", {"-f", "-o", "--metrics"});
        case Action::decode:
            return only_these("--decode", {"--client-out", "--server-out"});
        case Action::help:
        case Action::version:
            return {};
        case Action::run:
            break;
        }

        if (operands_.empty()) {
            if (given("-b"))
                return refuse("option -b needs a SERVER to forward to");
            return {};
        }

        const std::string& server = operands_.front();
        if (given("-f"))
            return refuse("option -f cannot be used with SERVER (with SERVER no config file is read)");
        if (!given("-b")) {
            if (given("-s"))
                return refuse("option -s needs -b [IFACE:]PORT when SERVER is given");
            if (given("-p"))
                return refuse("option -p needs -b [IFACE:]PORT (a pidfile is written only "
                              "in standalone mode)");
        }
        if (!grammar::is_program(server)) {
            if (operands_.size() > 1)
                return refuse("unexpected argument " + text::quoted(operands_[1]) + " after SERVER " +
                              text::quoted(server) +
                              " (options go before SERVER; only a program SERVER takes arguments)");
            const auto upstream = parse_upstream(server);
            if (!upstream)
                return refuse("SERVER " + text::quoted(server) + ": " + upstream.error().message);
        }
        cl_.server = server;
        cl_.server_args.assign(operands_.begin() + 1, operands_.end());
        return {};
    }

    std::vector<std::string> words_;
    std::size_t next_ = 0;
    std::vector<std::string> operands_;
    std::vector<std::string> given_; // option names in first-given order
    std::string_view action_option_;
    bool pid_seen_ = false;
    bool finished_ = false;
    CommandLine cl_;
};

} // namespace

Result<CommandLine> parse_command_line(int argc, const char* const argv[]) { return Parser(argc, argv).run(); }

} // namespace tcpproxy
