#define BOOST_TEST_MODULE optimizer
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/optimizer.h"

#include <cmath>
#include <functional>
#include <string>

using namespace textcnn;

namespace {

// dense 'out': weights 3 x 2 (group 0), bias 2 (group 1).
Network dense_net() { return Network({LayerSpec{"dense", "out", {{"units", "2"}}, {}}}, Shape{1, 3}); }

// embedding 'emb': table 2 x 6 (group 0, sparse columns); dense 'out': weights 2 x 2 (group 1),
// bias 2 (group 2).
Network embedding_net(const std::string& mode = "non-static") {
    return Network({LayerSpec{"embedding", "emb", {{"vocab", "6"}, {"dim", "2"}, {"mode", mode}}, {}},
                    LayerSpec{"global_max_pool", "", {}, {}}, LayerSpec{"dense", "out", {{"units", "2"}}, {}}},
                   Shape{1, 1, 4});
}

OptimizerSettings settings(const std::string& name) { return OptimizerSettings::defaults_for(name); }

// Every parameter starts at 1 and every step sees the same gradient g in every element, so each
// element follows the scalar sequence worked out by hand (in double precision) below.
std::vector<float> scalar_run(const OptimizerSettings& s) {
    Network net = dense_net();
    std::fill(net.parameters().begin(), net.parameters().end(), 1.0f);
    auto opt = make_optimizer(s, net);
    std::vector<float> trajectory;
    for (float g : {0.5f, -0.25f, 1.0f}) {
        std::fill(net.gradients().begin(), net.gradients().end(), g);
        opt->step(net);
        for (float p : net.parameters()) BOOST_REQUIRE_EQUAL(p, net.parameters()[0]);
        trajectory.push_back(net.parameters()[0]);
    }
    return trajectory;
}

void check_trajectory(const std::vector<float>& got, const std::vector<double>& expected, double tolerance = 2e-7) {
    BOOST_REQUIRE_EQUAL(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST_INFO("step " << i + 1);
        BOOST_TEST(std::abs(got[i] - expected[i]) <= tolerance);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_follow_kim_and_keras) {
    const auto adadelta = settings("adadelta");
    BOOST_TEST(adadelta.learning_rate == 1.0f);
    BOOST_TEST(adadelta.rho == 0.95f);
    BOOST_TEST(adadelta.epsilon == 1e-6f);
    const auto rmsprop = settings("rmsprop");
    BOOST_TEST(rmsprop.learning_rate == 1e-3f);
    BOOST_TEST(rmsprop.rho == 0.9f);
    BOOST_TEST(rmsprop.epsilon == 1e-7f);
    BOOST_TEST(settings("adam").learning_rate == 1e-3f);
    BOOST_TEST(settings("sgd").learning_rate == 0.01f);
    BOOST_CHECK_EXCEPTION(settings("adagrad"), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "unknown optimizer 'adagrad' (known: adadelta, adam, rmsprop, sgd)";
    });
    Network net = dense_net();
    auto bad = settings("sgd");
    bad.learning_rate = 0.0f;
    BOOST_CHECK_EXCEPTION(make_optimizer(bad, net), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "optimizer sgd: learning rate must be > 0";
    });
}

BOOST_AUTO_TEST_CASE(sgd_steps) {
    auto s = settings("sgd");
    s.learning_rate = 0.1f;
    check_trajectory(scalar_run(s), {0.95, 0.975, 0.875});
    s.momentum = 0.9f;  // v = 0.9 v - 0.1 g; p += v
    check_trajectory(scalar_run(s), {0.95, 0.93, 0.812});
    s.nesterov = true;  // p += 0.9 v - 0.1 g
    check_trajectory(scalar_run(s), {0.905, 0.912, 0.7058});
    s = settings("sgd");
    s.learning_rate = 0.1f;
    s.weight_decay = 0.01f;  // g + 0.01 p
    // 1 - 0.1 * 0.51 = 0.949; 0.949 - 0.1 * (-0.25 + 0.00949) = 0.9730510; ...
    check_trajectory(scalar_run(s), {0.949, 0.973051, 0.973051 - 0.1 * (1.0 + 0.00973051)});
}

BOOST_AUTO_TEST_CASE(adadelta_steps) {
    // Eg = .95 Eg + .05 g^2; d = sqrt(Ed + 1e-6) / sqrt(Eg + 1e-6) g; p -= d; Ed = .95 Ed + .05 d^2.
    check_trajectory(scalar_run(settings("adadelta")), {0.995528043, 0.99841464, 0.992345635});
    auto s = settings("adadelta");
    s.rho = 0.9f;
    s.learning_rate = 0.5f;
    check_trajectory(scalar_run(s), {0.998418893, 0.999461436, 0.997308078});
}

BOOST_AUTO_TEST_CASE(rmsprop_steps) {
    // v = .9 v + .1 g^2; p -= 1e-3 g / (sqrt(v) + 1e-7).
    check_trajectory(scalar_run(settings("rmsprop")), {0.996837724, 0.998312143, 0.995493565});
}

BOOST_AUTO_TEST_CASE(adam_steps) {
    // m = .9 m + .1 g; v = .999 v + .001 g^2; p -= 1e-3 sqrt(1 - .999^t) / (1 - .9^t) m / (sqrt(v) + 1e-8).
    check_trajectory(scalar_run(settings("adam")), {0.999000001, 0.998733664, 0.998075552});
}

BOOST_AUTO_TEST_CASE(gradient_clipping_by_global_norm) {
    Network net = dense_net();
    std::fill(net.parameters().begin(), net.parameters().end(), 1.0f);
    auto g = net.gradients();
    std::fill(g.begin(), g.end(), 0.0f);
    g[0] = 3.0f;
    g[7] = 4.0f;  // the last bias element: the norm spans groups
    BOOST_TEST(gradient_norm(net) == 5.0);
    auto s = settings("sgd");
    s.learning_rate = 1.0f;
    s.clip_norm = 1.0f;  // scale 1/5
    make_optimizer(s, net)->step(net);
    BOOST_TEST(net.parameters()[0] == 1.0f - 0.6f);
    BOOST_TEST(net.parameters()[7] == 1.0f - 0.8f);
    BOOST_TEST(net.parameters()[3] == 1.0f);
    // Below the limit the gradient is used as is.
    s.clip_norm = 10.0f;
    make_optimizer(s, net)->step(net);
    BOOST_TEST(net.parameters()[0] == 0.4f - 3.0f);
}

BOOST_AUTO_TEST_CASE(gradient_norm_counts_touched_columns_of_trainable_groups_only) {
    Network net = embedding_net();
    auto g = net.gradients();
    std::fill(g.begin(), g.end(), 0.0f);
    g[2] = 3.0f;  // table column 1
    g[3] = 4.0f;
    g[4] = 100.0f;  // table column 2: not touched, so not part of the gradient
    net.groups()[0].touched_columns = {1};
    BOOST_TEST(gradient_norm(net) == 5.0);

    Network frozen = embedding_net("static");
    std::fill(frozen.gradients().begin(), frozen.gradients().end(), 1.0f);
    frozen.groups()[0].touched_columns = {1, 2};
    BOOST_TEST(!frozen.groups()[0].info.trainable);
    BOOST_TEST(gradient_norm(frozen) == std::sqrt(6.0));  // dense weights 4 + bias 2
}

BOOST_AUTO_TEST_CASE(untrainable_groups_are_never_touched) {
    Network net = embedding_net("static");
    std::fill(net.parameters().begin(), net.parameters().end(), 1.0f);
    std::fill(net.gradients().begin(), net.gradients().end(), 0.5f);
    net.groups()[0].touched_columns = {0, 1, 2, 3, 4, 5};
    for (const std::string name : {"sgd", "adadelta", "adam", "rmsprop"}) {
        auto s = settings(name);
        s.weight_decay = 0.1f;
        make_optimizer(s, net)->step(net);
        for (std::size_t i = 0; i < 12; ++i) BOOST_TEST(net.parameters()[i] == 1.0f);
        BOOST_TEST(net.parameters()[12] != 1.0f);  // the dense layer moves
    }
}

// Sparse columns are updated only where touched; for SGD, Adadelta and RMSprop the lazy
// bookkeeping must give the same values as updating every column every step with zero gradient
// in the untouched ones. The reference here is that dense update, in double precision.
BOOST_AUTO_TEST_CASE(lazy_sparse_updates_equal_dense_updates) {
    const std::vector<std::vector<std::uint32_t>> touched_per_step = {{1, 3}, {3}, {}, {2, 5}, {1, 2, 3, 4, 5}, {4}, {}, {1}};
    auto gradient_of = [](std::size_t step, std::size_t col, std::size_t row) {
        return 0.1 * double(step + 1) * (double(col) - 2.5) + 0.05 * double(row) - 0.02;
    };
    struct Case {
        std::string name;
        std::function<double(double p, double g, std::vector<double>& slots)> update;
    };
    const double lr_sgd = 0.1;
    std::vector<Case> cases = {
        {"sgd", [&](double p, double g, std::vector<double>&) { return p - lr_sgd * g; }},
        {"adadelta",
         [](double p, double g, std::vector<double>& s) {
             const double rho = 0.95, eps = 1e-6;
             s[0] = rho * s[0] + (1 - rho) * g * g;
             const double d = std::sqrt(s[1] + eps) / std::sqrt(s[0] + eps) * g;
             s[1] = rho * s[1] + (1 - rho) * d * d;
             return p - d;
         }},
        {"rmsprop",
         [](double p, double g, std::vector<double>& s) {
             const double rho = 0.9, eps = 1e-7, lr = 1e-3;
             s[0] = rho * s[0] + (1 - rho) * g * g;
             return p - lr * g / (std::sqrt(s[0]) + eps);
         }},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            Network net = embedding_net();
            auto s = settings(c.name);
            if (c.name == "sgd") s.learning_rate = float(lr_sgd);
            auto opt = make_optimizer(s, net);
            std::vector<double> ref(12), initial(12);
            std::vector<std::vector<double>> slots(12, std::vector<double>(2, 0.0));
            for (std::size_t i = 0; i < 12; ++i) net.parameters()[i] = float(ref[i] = initial[i] = 0.1 * double(i) - 0.4);
            for (std::size_t step = 0; step < touched_per_step.size(); ++step) {
                auto& group = net.groups()[0];
                group.touched_columns = touched_per_step[step];
                std::fill(net.gradients().begin(), net.gradients().end(), 0.0f);
                for (std::uint32_t col : group.touched_columns)
                    for (std::size_t row = 0; row < 2; ++row)
                        net.gradients()[col * 2 + row] = float(gradient_of(step, col, row));
                opt->step(net);
                for (std::size_t col = 0; col < 6; ++col)
                    for (std::size_t row = 0; row < 2; ++row) {
                        const std::size_t i = col * 2 + row;
                        const bool touched = std::count(group.touched_columns.begin(), group.touched_columns.end(), col);
                        ref[i] = c.update(ref[i], touched ? double(float(gradient_of(step, col, row))) : 0.0, slots[i]);
                    }
            }
            // Compare after the last touch of each column, where the lazy values are materialised;
            // the columns untouched since then have not moved in either form.
            for (std::size_t i = 0; i < 12; ++i) {
                BOOST_TEST_INFO("element " << i);
                BOOST_TEST(std::abs(net.parameters()[i] - ref[i]) <= 2e-6 * std::max(1.0, std::abs(ref[i])));
            }
            // Column 0 was never touched: exactly its initial values.
            BOOST_TEST(net.parameters()[0] == float(initial[0]));
            BOOST_TEST(net.parameters()[1] == float(initial[1]));
        }
    }
}

BOOST_AUTO_TEST_CASE(lazy_momentum_and_adam_keep_untouched_columns) {
    for (const std::string name : {"sgd", "adam"}) {
        Network net = embedding_net();
        auto s = settings(name);
        s.momentum = name == "sgd" ? 0.9f : 0.0f;
        auto opt = make_optimizer(s, net);
        std::fill(net.parameters().begin(), net.parameters().end(), 1.0f);
        std::fill(net.gradients().begin(), net.gradients().end(), 0.5f);
        net.groups()[0].touched_columns = {2};
        opt->step(net);
        const float moved = net.parameters()[4];
        BOOST_TEST(moved < 1.0f);
        // Next step column 2 is not touched: it stays put rather than coasting on its momentum.
        std::fill(net.gradients().begin(), net.gradients().end(), 0.0f);
        net.groups()[0].touched_columns = {3};
        opt->step(net);
        BOOST_TEST(net.parameters()[4] == moved);
        BOOST_TEST(net.parameters()[6] == 1.0f);  // touched with zero gradient and no momentum yet
    }
}

BOOST_AUTO_TEST_CASE(max_norm_rescales_long_columns_only) {
    Network net = dense_net();
    auto p = net.parameters();
    // weights 3 x 2 column-major: column 0 = (3, 4, 0), norm 5; column 1 = (1, 2, 2), norm 3.
    const std::vector<float> w = {3, 4, 0, 1, 2, 2, 7, 7};
    std::copy(w.begin(), w.end(), p.begin());
    apply_max_norm(net, {0}, 3.0f);
    // scaled by 3/5 (float rounding: within one ulp)
    BOOST_TEST(p[0] == 1.8f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(p[1] == 2.4f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(p[2] == 0.0f);
    BOOST_TEST(p[3] == 1.0f);  // exactly at the limit: unchanged
    BOOST_TEST(p[4] == 2.0f);
    BOOST_TEST(p[5] == 2.0f);
    BOOST_TEST(p[6] == 7.0f);  // bias untouched
    BOOST_CHECK_EXCEPTION(apply_max_norm(net, {1}, 3.0f), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "max-norm: dense 'out' parameter 'bias' has no weight-vector columns to constrain";
    });
    BOOST_CHECK_EXCEPTION(apply_max_norm(net, {2}, 3.0f), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "max-norm: parameter group 2 does not exist (the network has 2)";
    });
}

BOOST_AUTO_TEST_CASE(state_round_trip_continues_identically) {
    for (const std::string name : {"sgd", "adadelta", "adam", "rmsprop"}) {
        BOOST_TEST_CONTEXT(name) {
            auto s = settings(name);
            s.momentum = name == "sgd" ? 0.9f : 0.0f;
            Network a = embedding_net(), b = embedding_net();
            a.initialize({}, 3);
            auto opt_a = make_optimizer(s, a);
            auto set_gradients = [](Network& net, std::size_t step) {
                for (std::size_t i = 0; i < net.gradients().size(); ++i)
                    net.gradients()[i] = float(std::sin(double(i * 7 + step * 13)));
                net.groups()[0].touched_columns = step % 2 ? std::vector<std::uint32_t>{1, 4} : std::vector<std::uint32_t>{2};
            };
            for (std::size_t step = 0; step < 3; ++step) {
                set_gradients(a, step);
                opt_a->step(a);
            }
            std::copy(a.parameters().begin(), a.parameters().end(), b.parameters().begin());
            auto opt_b = make_optimizer(s, b);
            opt_b->set_state(opt_a->state());
            for (std::size_t step = 3; step < 6; ++step) {
                set_gradients(a, step);
                set_gradients(b, step);
                opt_a->step(a);
                opt_b->step(b);
            }
            BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
            BOOST_TEST(opt_a->state() == opt_b->state());
        }
    }
}

BOOST_AUTO_TEST_CASE(state_from_another_optimizer_or_model_is_refused) {
    Network net = embedding_net();
    auto adam = make_optimizer(settings("adam"), net);
    auto adadelta = make_optimizer(settings("adadelta"), net);
    BOOST_CHECK_EXCEPTION(adadelta->set_state(adam->state()), InputError, [](const InputError& e) {
        return std::string(e.what()) == "optimizer state: saved by adam, this run uses adadelta";
    });
    Network other = dense_net();
    auto other_adadelta = make_optimizer(settings("adadelta"), other);
    BOOST_CHECK_EXCEPTION(adadelta->set_state(other_adadelta->state()), InputError, [](const InputError& e) {
        return std::string(e.what()).starts_with("optimizer state: saved for 8 trainable parameters");
    });
    BOOST_CHECK_THROW(adadelta->set_state({}), InputError);
    BOOST_CHECK_EXCEPTION(adadelta->step(other), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) ==
               "optimizer: made for a network of 18 parameters in 3 groups, stepped with one of 8 in 2";
    });
}
