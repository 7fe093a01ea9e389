#include "tcpproxy/config/config_load.hpp"
#include "process/spawn_protocol.hpp"
#include "scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

using namespace tcpproxy;
namespace sp = tcpproxy::spawn_protocol;

namespace {

template <typename T>
std::optional<sp::Request> round_request(const T& r)
{
    const auto bytes = sp::encode(sp::Request{r});
    return sp::decode_request(bytes.data(), bytes.size());
}

std::optional<sp::Answer> round_answer(const sp::Answer& a)
{
    const auto bytes = sp::encode(a);
    return sp::decode_answer(bytes.data(), bytes.size());
}

std::vector<std::uint8_t> bytes_of(const sp::Request& r) { return sp::encode(r); }

} // namespace

BOOST_AUTO_TEST_SUITE(spawn_protocol)

BOOST_AUTO_TEST_CASE(spawn_round_trip)
{
    const sp::Spawn s{3, 7, HandlerRole::exec, {{"CLIENT", "127.0.0.1"}, {"NAME", ""}}, 3};
    const auto back = round_request(s);
    BOOST_REQUIRE(back);
    BOOST_TEST((std::get<sp::Spawn>(*back) == s));
    BOOST_TEST(sp::descriptors_of(*back) == 3u); // answer socket + stdin + stdout
    const sp::Spawn exit{0, 0, HandlerRole::exit_handler, {}, 5};
    BOOST_TEST((std::get<sp::Spawn>(*round_request(exit)) == exit));
}

BOOST_AUTO_TEST_CASE(bind_and_reload_round_trip)
{
    const sp::Bind b{Endpoint{*IpAddress::parse("::1"), 443}, true, 4096};
    const auto back = round_request(b);
    BOOST_REQUIRE(back);
    BOOST_TEST((std::get<sp::Bind>(*back) == b));
    const sp::Bind b4{Endpoint{*IpAddress::parse("0.0.0.0"), 25}, false, 16};
    BOOST_TEST((std::get<sp::Bind>(*round_request(b4)) == b4));
    BOOST_TEST(std::holds_alternative<sp::Reload>(*round_request(sp::Reload{})));
    BOOST_TEST(sp::descriptors_of(sp::Request{sp::Reload{}}) == 1u);
}

BOOST_AUTO_TEST_CASE(answers_round_trip)
{
    for (const sp::Answer& a :
         {sp::Answer{sp::Started{4242}}, sp::Answer{sp::Failed{2, "execve(/nope)"}}, sp::Answer{sp::Exited{256}},
          sp::Answer{sp::Bound{}}, sp::Answer{sp::ConfigText{0}}, sp::Answer{sp::ConfigText{1234567, 4}}}) {
        const auto back = round_answer(a);
        BOOST_REQUIRE(back);
        BOOST_TEST((*back == a));
    }
    BOOST_TEST(sp::descriptors_of(sp::Answer{sp::Bound{}}) == 1u);
    BOOST_TEST(sp::descriptors_of(sp::Answer{sp::Exited{0}}) == 0u);
    const auto sig = sp::encode(sp::Signal{15});
    BOOST_TEST(sp::decode_signal(sig.data(), sig.size())->signo == 15);
}

BOOST_AUTO_TEST_CASE(config_text_answer_is_bounded)
{
    const sp::Answer largest{sp::ConfigText{static_cast<std::uint32_t>(sp::max_config_text)}};
    BOOST_TEST((round_answer(largest) == largest));
    BOOST_TEST(sp::descriptors_of(largest) == 1u, "the text travels in an attached descriptor");
    const auto beyond = sp::encode(sp::Answer{sp::ConfigText{static_cast<std::uint32_t>(sp::max_config_text + 1)}});
    BOOST_TEST(!sp::decode_answer(beyond.data(), beyond.size()), "more than max_config_text");
    const auto full = sp::encode(largest);
    for (std::size_t n = 0; n < full.size(); ++n)
        BOOST_TEST(!sp::decode_answer(full.data(), n), "prefix of " << n << " bytes");
    auto longer = full;
    longer.push_back(0);
    BOOST_TEST(!sp::decode_answer(longer.data(), longer.size()), "trailing byte");
}

BOOST_AUTO_TEST_CASE(sealed_text_cannot_change_and_reads_back)
{
    const std::string text = std::string("port 25\n  server 127.0.0.1:2525\n") + '\0' + "\xff tail";
    Fd fd = sealed_text(text);
    BOOST_REQUIRE(fd);
    BOOST_TEST(read_sealed_text(fd.get(), text.size()) == text);
    BOOST_TEST(::write(fd.get(), "x", 1) < 0, "written after sealing");
    BOOST_TEST(::pwrite(fd.get(), "x", 1, 0) < 0, "overwritten after sealing");
    BOOST_TEST(::ftruncate(fd.get(), 1) < 0, "shrunk after sealing");
    BOOST_TEST(::ftruncate(fd.get(), 1 << 20) < 0, "grown after sealing");
    BOOST_TEST(::fcntl(fd.get(), F_ADD_SEALS, 0) < 0, "seals themselves are sealed");
    BOOST_TEST(read_sealed_text(fd.get(), text.size()) == text);
    BOOST_TEST(read_sealed_text(sealed_text("").get(), 0).empty());

    BOOST_CHECK_THROW(read_sealed_text(fd.get(), text.size() - 1), std::system_error); // not the announced size
    Fd open_memfd(::memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    BOOST_REQUIRE(open_memfd);
    BOOST_REQUIRE(::write(open_memfd.get(), "port 1\n", 7) == 7);
    BOOST_CHECK_THROW(read_sealed_text(open_memfd.get(), 7), std::system_error); // could still change
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    Fd r(p[0]), w(p[1]);
    BOOST_CHECK_THROW(read_sealed_text(r.get(), 0), std::system_error); // not a memfd at all
}

BOOST_AUTO_TEST_CASE(config_text_is_read_whole_bounded_and_without_waiting)
{
    const test::TempDir dir("spawn");
    const std::string base = dir.str();
    const std::string text = std::string("port 25\n") + '\0' + std::string(200000, 'x');
    std::ofstream(base + "/conf", std::ios::binary) << text;
    const auto whole = read_config_text(base + "/conf", false);
    BOOST_REQUIRE(whole);
    BOOST_TEST((*whole == text));

    const auto missing = read_config_text(base + "/missing", false);
    BOOST_REQUIRE(!missing);
    BOOST_TEST(missing.error().message == "open: No such file or directory");

    const auto endless = read_config_text("/dev/zero", false);
    BOOST_REQUIRE(!endless);
    BOOST_TEST(endless.error().message == "larger than 16 MiB");

    // A FIFO nobody writes to must not stall the spawner.
    BOOST_REQUIRE(::mkfifo((base + "/fifo").c_str(), 0600) == 0);
    const auto fifo = read_config_text(base + "/fifo", false);
    BOOST_REQUIRE(fifo);
    BOOST_TEST(fifo->empty());
}

BOOST_AUTO_TEST_CASE(every_truncation_is_refused)
{
    const auto full = bytes_of(sp::Spawn{1, 2, HandlerRole::acp, {{"CLIENT", "1"}}, 1});
    for (std::size_t n = 0; n < full.size(); ++n)
        BOOST_TEST(!sp::decode_request(full.data(), n), "prefix of " << n << " bytes");
    auto longer = full;
    longer.push_back(0);
    BOOST_TEST(!sp::decode_request(longer.data(), longer.size()), "trailing byte");
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_refused)
{
    // An empty variable name, a NUL inside a value, a bad stdio mask or role, a lying count.
    auto no_name = bytes_of(sp::Spawn{1, 1, HandlerRole::exec, {{"", "x"}}, 0});
    BOOST_TEST(!sp::decode_request(no_name.data(), no_name.size()));
    auto nul = bytes_of(sp::Spawn{1, 1, HandlerRole::exec, {{"CLIENT", std::string("a\0b", 3)}}, 0});
    BOOST_TEST(!sp::decode_request(nul.data(), nul.size()));
    auto mask = bytes_of(sp::Spawn{1, 1, HandlerRole::exec, {}, 0});
    mask.back() = 8; // the stdio byte
    BOOST_TEST(!sp::decode_request(mask.data(), mask.size()));
    for (std::uint8_t role : {0, 4, 255}) {
        auto bad_role = bytes_of(sp::Spawn{1, 1, HandlerRole::exec, {}, 0});
        bad_role[1 + 4 + 4] = role;
        BOOST_TEST(!sp::decode_request(bad_role.data(), bad_role.size()), "role " << int(role));
    }
    auto odd = bytes_of(sp::Spawn{1, 1, HandlerRole::exec, {{"CLIENT", "x"}}, 0});
    odd[1 + 4 + 4 + 1] = 1; // one string: a name without its value
    BOOST_TEST(!sp::decode_request(odd.data(), odd.size()));
    std::vector<std::uint8_t> huge_count{1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x7f};
    BOOST_TEST(!sp::decode_request(huge_count.data(), huge_count.size()));
    auto port0 = bytes_of(sp::Bind{Endpoint{*IpAddress::parse("127.0.0.1"), 1}, false, 1});
    port0[1 + 1 + 16] = 0; // the port's low byte
    BOOST_TEST(!sp::decode_request(port0.data(), port0.size()));
    const std::uint8_t unknown[] = {99};
    BOOST_TEST(!sp::decode_request(unknown, 1));
    BOOST_TEST(!sp::decode_request(unknown, 0));
    // A message of the other direction is not a request.
    const auto answer = sp::encode(sp::Answer{sp::ConfigText{7}});
    BOOST_TEST(!sp::decode_request(answer.data(), answer.size()));
    const auto req = bytes_of(sp::Reload{});
    BOOST_TEST(!sp::decode_answer(req.data(), req.size()));
    const auto sig0 = sp::encode(sp::Signal{0});
    BOOST_TEST(!sp::decode_signal(sig0.data(), sig0.size()));
}

namespace {

// Two ports: 25 with an exec service as uid 1000 on 127.0.0.1, 110 with an
// acp service as 2000.2001 on every address; exit handlers in process mode.
std::shared_ptr<Config> policy_config()
{
    auto c = std::make_shared<Config>();
    PortConfig smtp;
    smtp.port = 25;
    Service s;
    s.interface.kind = InterfaceSpec::Kind::address;
    s.interface.address = *IpAddress::parse("127.0.0.1");
    s.exec = {"/usr/bin/printf", "%s", "hello"};
    s.user.uid = 1000; // numeric: the group comes from the default
    smtp.services.push_back(s);
    c->ports.push_back(smtp);
    PortConfig pop;
    pop.port = 110;
    Service t;
    t.servers.push_back(Upstream{"192.0.2.1", {}, "192.0.2.1"});
    t.acp = "/usr/local/bin/acp";
    t.user.uid = 2000;
    t.user.gid = 2001;
    t.var_prefix = "X_";
    pop.services.push_back(t);
    c->ports.push_back(pop);
    c->session.mode = SessionMode::process;
    c->session.exit_handler = {"/usr/local/bin/on-exit", "-v"};
    return c;
}

bool has(const std::vector<std::string>& v, const std::string& e)
{
    return std::find(v.begin(), v.end(), e) != v.end();
}

} // namespace

BOOST_AUTO_TEST_CASE(the_spawner_takes_program_user_and_environment_from_its_configuration)
{
    const Credentials nobody{65534, 65534};
    const char* environment[] = {"PATH=/sbin:/bin", "HOME=/root",           "LD_PRELOAD=/tmp/evil.so",
                                 "GCONV_PATH=/tmp", "LD_LIBRARY_PATH=/tmp", nullptr};
    const auto policy = spawner_policy(policy_config(), nobody, environment);

    const auto exec = resolve(policy, sp::Spawn{0, 0, HandlerRole::exec, {{"CLIENT", "192.0.2.9\x1b[2J"}}, 3});
    BOOST_REQUIRE(exec);
    BOOST_TEST((exec->argv == std::vector<std::string>{"/usr/bin/printf", "%s", "hello"}));
    BOOST_TEST((exec->as == Credentials{1000, 65534}));
    BOOST_TEST(!exec->process_group);
    BOOST_TEST(has(exec->env, "PROXY_CLIENT=192.0.2.9?[2J"), "values cleaned");
    BOOST_TEST(has(exec->env, "PATH=/sbin:/bin"));
    BOOST_TEST(has(exec->env, "HOME=/root"));
    for (const auto& e : exec->env)
        BOOST_TEST((!e.starts_with("LD_") && !e.starts_with("GCONV_PATH")), e);

    const auto acp = resolve(policy, sp::Spawn{0, 1, HandlerRole::acp, {}, 4});
    BOOST_REQUIRE(acp);
    BOOST_TEST((acp->argv == std::vector<std::string>{"/usr/local/bin/acp"}));
    BOOST_TEST((acp->as == Credentials{2000, 2001}));

    const auto exit = resolve(policy, sp::Spawn{0, 1, HandlerRole::exit_handler, {{"STATUS", "ok"}}, 1});
    BOOST_REQUIRE(exit);
    BOOST_TEST((exit->argv == std::vector<std::string>{"/usr/local/bin/on-exit", "-v"}));
    BOOST_TEST(exit->process_group);
    BOOST_TEST(has(exit->env, "X_STATUS=ok"));
}

BOOST_AUTO_TEST_CASE(the_spawner_refuses_what_its_configuration_does_not_name)
{
    const Credentials nobody{65534, 65534};
    auto policy = spawner_policy(policy_config(), nobody, nullptr);
    auto refused = [&](const sp::Spawn& r) {
        const auto l = resolve(policy, r);
        return !l && l.error().message.starts_with("not allowed: ");
    };
    BOOST_TEST(refused(sp::Spawn{0, 2, HandlerRole::exec, {}, 0}), "no service 2");
    BOOST_TEST(refused(sp::Spawn{0, 1, HandlerRole::exec, {}, 0}), "service 1 has no exec");
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::acp, {}, 0}), "service 0 has no acp");
    BOOST_TEST(refused(sp::Spawn{1, 0, HandlerRole::exec, {}, 0}), "unknown generation");
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::exec, {{"LD_PRELOAD", "/tmp/x.so"}}, 0}));
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::exec, {{"PATH", "/tmp"}}, 0}));
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::exec, {{"STATUS", "ok"}}, 0}), "end-only before the end");
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::exec, {{"CLIENT", "a"}, {"CLIENT", "b"}}, 0}));

    auto no_exit = std::make_shared<Config>(*policy_config());
    no_exit->session.mode = SessionMode::keep;
    BOOST_TEST(adopt(policy, no_exit) == 1u);
    BOOST_TEST(refused(sp::Spawn{1, 0, HandlerRole::exit_handler, {}, 0}), "no exit handler outside process mode");
    BOOST_TEST(!refused(sp::Spawn{0, 0, HandlerRole::exit_handler, {}, 0}), "an older generation still ends");
    for (int i = 0; i < 20; ++i)
        adopt(policy, no_exit);
    BOOST_TEST(refused(sp::Spawn{0, 0, HandlerRole::exec, {}, 0}), "only the last few generations are kept");

    // Root only where the configuration says so.
    auto root = std::make_shared<Config>(*policy_config());
    root->ports[0].services[0].user.uid = 0;
    const auto as_root = resolve(spawner_policy(root, nobody, nullptr), sp::Spawn{0, 0, HandlerRole::exec, {}, 0});
    BOOST_REQUIRE(as_root);
    BOOST_TEST(as_root->as.uid == 0u);

    // A prefix must not make a loader variable either.
    auto ld = std::make_shared<Config>(*policy_config());
    ld->ports[0].services[0].var_prefix = "LD_";
    const auto prefixed =
        resolve(spawner_policy(ld, nobody, nullptr), sp::Spawn{0, 0, HandlerRole::exec, {{"PORT", "25"}}, 0});
    BOOST_REQUIRE(prefixed);
    for (const auto& e : prefixed->env)
        BOOST_TEST(!e.starts_with("LD_"), e);
}

BOOST_AUTO_TEST_CASE(binds_only_configured_addresses_and_ports)
{
    const auto policy = spawner_policy(policy_config(), Credentials{65534, 65534}, nullptr);
    auto bind = [&](const char* ip, std::uint16_t port) {
        return refusal(policy, sp::Bind{Endpoint{*IpAddress::parse(ip), port}, false, 1});
    };
    BOOST_TEST(bind("127.0.0.1", 25).empty());
    BOOST_TEST(!bind("10.9.9.1", 25).empty(), "port 25 is configured on 127.0.0.1 only");
    BOOST_TEST(!bind("0.0.0.0", 25).empty());
    BOOST_TEST(bind("0.0.0.0", 110).empty());
    BOOST_TEST(bind("::", 110).empty());
    BOOST_TEST(!bind("192.0.2.1", 110).empty(), "a wildcard port binds the wildcard");
    BOOST_TEST(!bind("0.0.0.0", 22).empty());
}

BOOST_AUTO_TEST_CASE(identity_parts_default_to_nobody)
{
    const Credentials nobody{65534, 65533};
    Identity numeric;
    numeric.uid = 1000;
    BOOST_TEST((credentials_for(numeric, nobody) == Credentials{1000, 65533}));
    Identity group_only;
    group_only.gid = 50;
    BOOST_TEST((credentials_for(group_only, nobody) == Credentials{65534, 50}));
    BOOST_TEST((credentials_for(Identity{}, nobody) == nobody));

    Config c;
    PortConfig p;
    p.port = 1;
    p.services.resize(2);
    p.services[0].user = numeric;
    p.services[1].user = numeric;
    c.ports.push_back(p);
    BOOST_TEST((process_credentials(c, nobody) == Credentials{1000, 65533}), "one shared identity");
    c.ports[0].services[1].user = group_only;
    BOOST_TEST((process_credentials(c, nobody) == data_path_default(nobody)), "different identities: the default");
    c.ports[0].services[0].user = Identity{};
    c.ports[0].services[1].user = Identity{};
    BOOST_TEST((process_credentials(c, nobody) == data_path_default(nobody)),
               "no user named: the daemon's own default, not the handlers'");
}

BOOST_AUTO_TEST_CASE(handlers_sharing_the_daemons_user_with_files_on_are_warned_about)
{
    const Credentials nobody{65534, 65534};
    Config c;
    PortConfig p;
    p.port = 25;
    Service s;
    s.exec = {"/bin/true"};
    s.writefile = "/var/log/cap";
    p.services.push_back(s);
    c.ports.push_back(p);
    auto has = [](const std::vector<std::string>& v, const std::string& part) {
        return std::any_of(v.begin(), v.end(), [&](const auto& w) { return w.find(part) != std::string::npos; });
    };
    BOOST_TEST(has(identity_warnings(c, nobody, nobody), "the daemon's own user"));
    BOOST_TEST(!has(identity_warnings(c, Credentials{999, 999}, nobody), "the daemon's own user"));
    c.ports[0].services[0].writefile.clear();
    BOOST_TEST(!has(identity_warnings(c, nobody, nobody), "the daemon's own user"), "no files to read");
    if (data_path_default(nobody) == nobody)
        BOOST_TEST(has(identity_warnings(c, nobody, nobody), "no system user 'tcpproxy'"));
}

BOOST_AUTO_TEST_CASE(messages_carry_descriptors)
{
    auto [a, b] = message_socket_pair();
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    Fd r(p[0]), w(p[1]);
    BOOST_TEST(send_message(a.get(), {1, 2, 3}, {w.get()}) == 0);
    auto got = receive_message(b.get(), 16, 1);
    BOOST_REQUIRE((got.kind == Received::Kind::message));
    BOOST_TEST((got.bytes == std::vector<std::uint8_t>{1, 2, 3}));
    BOOST_REQUIRE(got.fds.size() == 1u);
    BOOST_TEST(::write(got.fds[0].get(), "x", 1) == 1);
    char c = 0;
    BOOST_TEST(::read(r.get(), &c, 1) == 1);
    BOOST_TEST(c == 'x');

    // More descriptors than allowed: refused whole, and none is left open.
    BOOST_TEST(send_message(a.get(), {1}, {w.get(), w.get()}) == 0);
    auto refused = receive_message(b.get(), 16, 1);
    BOOST_TEST((refused.kind == Received::Kind::broken));
    BOOST_TEST(refused.fds.empty());

    BOOST_TEST((receive_message(b.get(), 16, 1, true).kind == Received::Kind::would_block));
    // An empty message is not the peer's close: a protocol error.
    BOOST_TEST(send_message(a.get(), {}, {}) == 0);
    const auto empty = receive_message(b.get(), 16, 1);
    BOOST_TEST((empty.kind == Received::Kind::broken));
    BOOST_TEST(empty.err == EPROTO);
    a.reset();
    BOOST_TEST((receive_message(b.get(), 16, 1).kind == Received::Kind::closed));
}

BOOST_AUTO_TEST_SUITE_END()
