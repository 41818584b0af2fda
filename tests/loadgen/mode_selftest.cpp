// selftest: starts an in-process TLS echo server with a certificate made at run time and
// runs the modes against it, each briefly, verifying the certificate and its name. Every
// run must end without an error; the nested reports are kept under "runs".
#include <cstdio>

#include "modes.hpp"
#include "selftest_server.hpp"

namespace loadgen {

namespace {

struct selftest_run {
    std::string name;
    int (*fn)(run_context&);
    std::vector<std::string> args;
};

}  // namespace

int run_selftest(run_context& rc) {
    const double d = rc.opt.num("duration", 2);
    const auto threads = static_cast<std::size_t>(std::max(1LL, rc.opt.integer("threads", 2)));
    const auto ds = std::to_string(d);
    selftest_server server(/*handshake_s=*/2);
    const auto target = server.endpoint();

    // The client trusts exactly the server's certificate and checks its name.
    auto tls = make_client_context("");
    SSL_CTX* c = tls->native_handle();
    SSL_CTX_set_cert_verify_callback(c, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(c), server.certificate());
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);

    const std::vector<selftest_run> runs = {
        {"handshake", run_handshake, {"--concurrency", "8", "--duration", ds}},
        {"resume", run_handshake, {"--concurrency", "8", "--duration", ds, "--resume"}},
        {"verify", run_verify, {"--concurrency", "8", "--connections", "32", "--payload", "1m"}},
        {"throughput", run_throughput, {"--concurrency", "4", "--duration", ds}},
        {"throughput_bytes", run_throughput, {"--concurrency", "4", "--bytes", "64m"}},
        {"reqresp", run_reqresp, {"--concurrency", "4", "--size", "16k", "--duration", ds}},
        {"hold", run_hold, {"--connections", "500", "--rate", "2000", "--hold", "1"}},
        {"reset_storm", run_reset_storm, {"--connections", "400", "--rate", "400"}},
        {"slowloris", run_slowloris, {"--connections", "20", "--duration", "6"}},
        {"slowloris_half_hello", run_slowloris, {"--connections", "20", "--duration", "6", "--half-hello"}},
    };
    json_out all;
    std::uint64_t failed_runs = 0;
    for (const auto& r : runs) {
        std::vector<std::string> args = {r.name};
        args.insert(args.end(), r.args.begin(), r.args.end());
        const options sub_opt(args);
        engine eng(threads);
        run_context sub(sub_opt, eng, tls, target);
        sub.check_name = true;
        sub.seed = rc.seed;
        sub.timeout_s = rc.timeout_s;
        sub.deadline_s = 30;
        int code = r.fn(sub);
        // The resumption run must actually resume.
        if (r.name == "resume" && code == 0) {
            if (sub.out.raw("resumed") == "0") {
                sub.out.put("selftest_error", "no session was resumed");
                code = 1;
            }
        }
        std::fprintf(stderr, "selftest: %-22s %s\n", r.name.c_str(), code ? "FAILED" : "ok");
        if (code) {
            ++failed_runs;
            std::fprintf(stderr, "%s\n", sub.out.str().c_str());
        }
        all.put_raw(r.name, sub.out.str());
    }
    rc.out.put("target", target.address().to_string() + ":" + std::to_string(target.port()));
    rc.out.put("verify", "ca");
    rc.out.put("server_accepted", server.accepted());
    rc.out.put("server_handshake_failures", server.handshake_failures());
    rc.out.put("runs_failed", failed_runs);
    rc.out.put_raw("runs", all.str());
    return failed_runs ? 1 : 0;
}

}  // namespace loadgen
