// Reader for RTNeural's Keras JSON model format:
//   {"in_shape": [null, ..., n_in], "layers": [{"type", "activation", "shape", "weights", ...}, ...]}
// Weight layouts are Keras': dense kernel (in x out), conv1d kernel (K x in/groups x out),
// GRU kernel / recurrent kernel / bias(2 x 3H) in gate order z, r, n (reset_after),
// LSTM kernel / recurrent kernel / bias in gate order i, f, c, o.
#pragma once

#include <algorithm>
#include <iterator>
#include <memory>

#include "../layers/conv1d.h"
#include "../layers/dense.h"
#include "../layers/elementwise.h"
#include "../layers/gru.h"
#include "../layers/lstm.h"
#include "../models/sequential.h"
#include "json_reader.h"

namespace nscore {
namespace rtneural {

inline std::string shapeOf(const json& j) {
    if (!j.is_array()) return "a scalar";
    std::string s = std::to_string(j.size());
    const json* cur = &j;
    while (!cur->empty() && (*cur)[0].is_array()) {
        cur = &(*cur)[0];
        s += " x " + std::to_string(cur->size());
    }
    return s;
}

class LayerReader {
public:
    LayerReader(const JsonReader& r, const json& L, std::string path) : r_(r), L_(L), p_(std::move(path)) {
        ws_ = &r_.array(r_.field(L_, "weights", p_), JsonReader::join(p_, "weights"));
    }
    const json& weights() const { return *ws_; }
    std::string wpath(size_t i) const { return JsonReader::index(JsonReader::join(p_, "weights"), i); }
    void expectCount(size_t lo, size_t hi, const std::string& what) const {
        if (ws_->size() < lo || ws_->size() > hi)
            r_.fail(ErrorCode::Format, JsonReader::join(p_, "weights"),
                    "expected " + what + ", found " + std::to_string(ws_->size()) + " arrays");
    }
    // weights[i] as a rows x cols matrix (row-major), with a shape-level message on mismatch.
    Buffer matrix(size_t i, size_t rows, size_t cols, const std::string& meaning) const {
        const json& m = (*ws_)[i];
        bool ok = m.is_array() && m.size() == rows;
        for (size_t k = 0; ok && k < m.size(); ++k) ok = m[k].is_array() && m[k].size() == cols;
        if (!ok)
            r_.fail(ErrorCode::Format, wpath(i),
                    "expected a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix (" + meaning + "), found " + shapeOf(m));
        return r_.matrix(m, wpath(i), rows, cols);
    }
    Buffer vec(size_t i, size_t n, const std::string& meaning) const {
        const json& v = (*ws_)[i];
        if (!v.is_array() || v.size() != n || (n > 0 && v[0].is_array()))
            r_.fail(ErrorCode::Format, wpath(i), "expected " + std::to_string(n) + " values (" + meaning + "), found " + shapeOf(v));
        Buffer out;
        r_.floats(v, wpath(i), n, out);
        return out;
    }
    const JsonReader& r() const { return r_; }
    const json& layer() const { return L_; }
    const std::string& path() const { return p_; }

private:
    const JsonReader& r_;
    const json& L_;
    std::string p_;
    const json* ws_;
};

inline Activation activationOf(const JsonReader& r, const json& L, const std::string& p) {
    const json* a = r.optional(L, "activation");
    if (!a) return {};
    const std::string path = JsonReader::join(p, "activation");
    const std::string n = r.string(*a, path);
    if (n.empty() || n == "linear") return {};
    if (n == "tanh") return {Act::Tanh};
    if (n == "sigmoid") return {Act::Sigmoid};
    if (n == "relu") return {Act::ReLU};
    if (n == "elu") return {Act::ELU, 1.0f};
    if (n == "softmax") return {Act::Softmax};
    if (n == "leakyrelu" || n == "leaky_relu" || n == "LeakyReLU") {
        float alpha = 0.3f;  // Keras' default slope
        if (const json* al = r.optional(L, "alpha")) alpha = r.finiteFloat(*al, JsonReader::join(p, "alpha"));
        return {Act::LeakyReLU, alpha};
    }
    r.fail(ErrorCode::Unsupported, path,
           "unknown activation \"" + n + "\" (supported: tanh, sigmoid, relu, elu, softmax, leakyrelu, linear)");
}

inline int declaredSize(const JsonReader& r, const json& L, const std::string& p) {
    const std::string sp = JsonReader::join(p, "shape");
    const json& s = r.array(r.field(L, "shape", p), sp);
    if (s.empty()) r.fail(ErrorCode::Format, sp, "expected a shape like [null, null, 8], found an empty array");
    return (int)r.integer(s.back(), JsonReader::index(sp, s.size() - 1), 1, Limits::maxChannels);
}

// stateFloats accumulates the history the model's convolutions will allocate in
// prepare(); it is checked against Limits::maxStateFloats before allocating.
inline std::unique_ptr<Layer> readLayer(const JsonReader& r, const json& L, const std::string& p, int in,
                                        long long& stateFloats) {
    const std::string type = r.string(r.field(L, "type", p), JsonReader::join(p, "type"));
    static const char* known[] = {"dense", "time-distributed-dense", "conv1d", "gru", "lstm", "batchnorm", "prelu", "activation"};
    if (std::find(std::begin(known), std::end(known), type) == std::end(known))
        r.fail(ErrorCode::Unsupported, JsonReader::join(p, "type"),
               "unknown layer type \"" + type +
                   "\" (supported: dense, time-distributed-dense, conv1d, gru, lstm, batchnorm, prelu, activation)");
    LayerReader lr(r, L, p);
    const Activation act = activationOf(r, L, p);
    const std::string sin = std::to_string(in);

    if (type == "dense" || type == "time-distributed-dense") {
        const int out = declaredSize(r, L, p);
        lr.expectCount(1, 2, "[kernel] or [kernel, bias]");
        Buffer W = lr.matrix(0, in, out, "inputs " + sin + " x units " + std::to_string(out));
        Buffer b;
        if (lr.weights().size() == 2) b = lr.vec(1, out, "bias");
        return std::make_unique<Dense>(in, out, std::move(W), std::move(b), act);
    }
    if (type == "conv1d") {
        const int out = declaredSize(r, L, p);
        auto firstInt = [&](const char* key, long long hi) {
            const std::string kp = JsonReader::join(p, key);
            const json& v = r.field(L, key, p);
            if (v.is_array()) {
                if (v.size() != 1) r.fail(ErrorCode::Format, kp, "expected a one-element array, found " + describeJson(v));
                return (int)r.integer(v[0], JsonReader::index(kp, 0), 1, hi);
            }
            return (int)r.integer(v, kp, 1, hi);
        };
        const int K = firstInt("kernel_size", Limits::maxKernel);
        const int d = firstInt("dilation", Limits::maxDilation);
        int groups = 1;
        if (const json* g = r.optional(L, "groups")) groups = (int)r.integer(*g, JsonReader::join(p, "groups"), 1, Limits::maxChannels);
        if (in % groups != 0 || out % groups != 0)
            r.fail(ErrorCode::Format, JsonReader::join(p, "groups"),
                   "expected a divisor of both the input channels (" + sin + ") and the filters (" + std::to_string(out) +
                       "), found " + std::to_string(groups));
        const long long hist = (long long)d * (K - 1);
        if (hist > Limits::maxHistory)
            r.fail(ErrorCode::Limit, JsonReader::join(p, "dilation"),
                   "dilation x (kernel_size - 1) = " + std::to_string(hist) + " samples of history exceeds the limit of " +
                       std::to_string(Limits::maxHistory));
        stateFloats += historyFloats(in, hist);
        if (stateFloats > Limits::maxStateFloats)
            r.fail(ErrorCode::Limit, JsonReader::join(p, "dilation"),
                   "the convolutions' history (" + sin + " channels x " + std::to_string(hist) +
                       " samples here) would need " + std::to_string(stateFloats) +
                       " floats of state in total, more than the limit of " + std::to_string(Limits::maxStateFloats) +
                       " (1 GiB)");
        const int cg = in / groups;
        lr.expectCount(1, 2, "[kernel] or [kernel, bias]");
        const json& k = lr.weights()[0];
        bool ok = k.is_array() && k.size() == (size_t)K;
        for (size_t t = 0; ok && t < k.size(); ++t) {
            ok = k[t].is_array() && k[t].size() == (size_t)cg;
            for (size_t c = 0; ok && c < k[t].size(); ++c) ok = k[t][c].is_array() && k[t][c].size() == (size_t)out;
        }
        if (!ok)
            r.fail(ErrorCode::Format, lr.wpath(0),
                   "expected a " + std::to_string(K) + " x " + std::to_string(cg) + " x " + std::to_string(out) +
                       " kernel (kernel_size x in/groups x filters), found " + shapeOf(k));
        Buffer W;
        W.reserve((size_t)K * cg * out);
        for (int t = 0; t < K; ++t)
            for (int c = 0; c < cg; ++c)
                r.floats(k[t][c], JsonReader::index(JsonReader::index(lr.wpath(0), t), c), out, W);
        Buffer b;
        if (lr.weights().size() == 2) b = lr.vec(1, out, "bias");
        return std::make_unique<Conv1D>(in, out, K, d, groups, std::move(W), std::move(b), act);
    }
    if (type == "gru") {
        const int H = declaredSize(r, L, p);
        lr.expectCount(3, 3, "[kernel, recurrent_kernel, bias]");
        const std::string hs = std::to_string(H);
        Buffer Wx = lr.matrix(0, in, 3 * H, "inputs " + sin + " x 3*" + hs + " units");
        Buffer U = lr.matrix(1, H, 3 * H, hs + " units x 3*" + hs);
        Buffer bb = lr.matrix(2, 2, 3 * H, "input and recurrent bias x 3*" + hs);
        Buffer bIn(bb.begin(), bb.begin() + 3 * H), bRec(bb.begin() + 3 * H, bb.end());
        const long long stored = (long long)Wx.size() + U.size() + bb.size();
        return std::make_unique<GRU>(in, H, std::move(Wx), std::move(U), std::move(bIn), std::move(bRec), stored);
    }
    if (type == "lstm") {
        const int H = declaredSize(r, L, p);
        lr.expectCount(3, 3, "[kernel, recurrent_kernel, bias]");
        const std::string hs = std::to_string(H);
        const Buffer k = lr.matrix(0, in, 4 * H, "inputs " + sin + " x 4*" + hs + " units");
        const Buffer rk = lr.matrix(1, H, 4 * H, hs + " units x 4*" + hs);
        const Buffer bias = lr.vec(2, 4 * H, "4*" + hs + " bias");
        // Keras gate order i, f, c, o -> internal i, f, o, g.
        static const int perm[4] = {0, 1, 3, 2};
        auto row = [&](int col) { return perm[col / H] * H + col % H; };
        Buffer Wx((size_t)4 * H * in), U((size_t)4 * H * H), b(4 * H);
        for (int j = 0; j < in; ++j)
            for (int col = 0; col < 4 * H; ++col) Wx[(size_t)j * 4 * H + row(col)] = k[(size_t)j * 4 * H + col];
        for (int j = 0; j < H; ++j)
            for (int col = 0; col < 4 * H; ++col) U[(size_t)j * 4 * H + row(col)] = rk[(size_t)j * 4 * H + col];
        for (int col = 0; col < 4 * H; ++col) b[row(col)] = bias[col];
        const long long stored = (long long)k.size() + rk.size() + bias.size();
        return std::make_unique<LSTM>(in, H, std::move(Wx), std::move(U), std::move(b), Buffer{}, Buffer{}, stored);
    }
    if (type == "batchnorm") {
        float eps = 0.001f;  // Keras' default
        if (const json* e = r.optional(L, "epsilon")) eps = r.finiteFloat(*e, JsonReader::join(p, "epsilon"));
        const size_t n = lr.weights().size();
        if (n != 4 && n != 2)
            r.fail(ErrorCode::Format, JsonReader::join(p, "weights"),
                   "expected [gamma, beta, moving_mean, moving_variance] or [moving_mean, moving_variance], found " +
                       std::to_string(n) + " arrays");
        Buffer gamma(in, 1.0f), beta(in, 0.0f);
        size_t i = 0;
        if (n == 4) {
            gamma = lr.vec(0, in, "gamma");
            beta = lr.vec(1, in, "beta");
            i = 2;
        }
        Buffer mean = lr.vec(i, in, "moving_mean");
        Buffer var = lr.vec(i + 1, in, "moving_variance");
        for (int c = 0; c < in; ++c)
            if (var[c] + eps <= 0.0f)
                r.fail(ErrorCode::Format, JsonReader::index(lr.wpath(i + 1), c), "variance + epsilon must be positive");
        return std::make_unique<BatchNorm1D>(in, gamma, beta, mean, var, eps, (long long)n * in);
    }
    if (type == "prelu") {
        lr.expectCount(1, 1, "[alpha]");
        const json& a = lr.weights()[0];
        const json& flat = (a.is_array() && a.size() == 1 && a[0].is_array()) ? a[0] : a;
        const std::string ap = &flat == &a ? lr.wpath(0) : JsonReader::index(lr.wpath(0), 0);
        Buffer alpha;
        if (flat.is_array() && flat.size() == 1) {
            r.floats(flat, ap, 1, alpha);
            alpha.assign(in, alpha[0]);
        } else if (flat.is_array() && flat.size() == (size_t)in) {
            r.floats(flat, ap, in, alpha);
        } else {
            r.fail(ErrorCode::Format, lr.wpath(0), "expected 1 (shared) or " + sin + " alpha values, found " + shapeOf(a));
        }
        return std::make_unique<PReLU>(in, std::move(alpha), (long long)(flat.size()));
    }
    if (type == "activation") {
        if (!r.optional(L, "activation")) r.fail(ErrorCode::Format, JsonReader::join(p, "activation"), "missing (required field)");
        return std::make_unique<ActivationLayer>(in, act);
    }
    r.fail(ErrorCode::Unsupported, JsonReader::join(p, "type"),
           "unknown layer type \"" + type +
               "\" (supported: dense, time-distributed-dense, conv1d, gru, lstm, batchnorm, prelu, activation)");
}

inline std::unique_ptr<Model> load(const JsonReader& r, const json& root) {
    ModelInfo info;
    info.format = "rtneural";
    info.architecture = "RTNeural";
    const json& shape = r.array(r.field(root, "in_shape", ""), "in_shape");
    if (shape.empty()) r.fail(ErrorCode::Format, "in_shape", "expected a shape like [null, null, 1], found an empty array");
    int in = (int)r.integer(shape.back(), JsonReader::index("in_shape", shape.size() - 1), 1, Limits::maxInputs);
    if (const json* sr = r.optional(root, "samplerate")) {
        double v = 0;
        if (sr->is_string()) {
            try {
                v = std::stod(sr->get<std::string>());
            } catch (...) {
                r.expected("samplerate", "a sample rate in Hz", *sr);
            }
        } else {
            v = r.number(*sr, "samplerate");
        }
        if (!(v >= 1000.0 && v <= 1e6)) r.fail(ErrorCode::Format, "samplerate", "expected a rate in 1000..1000000 Hz, found " + describeJson(*sr));
        info.sampleRate = v;
        info.sampleRateKnown = true;
    }
    const json& layers = r.array(r.field(root, "layers", ""), "layers");
    if (layers.empty()) r.fail(ErrorCode::Format, "layers", "expected at least one layer, found none");
    if (layers.size() > (size_t)Limits::maxLayers) r.fail(ErrorCode::Limit, "layers", "too many layers");
    std::vector<std::unique_ptr<Layer>> out;
    long long weights = 0, stateFloats = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
        out.push_back(readLayer(r, layers[i], JsonReader::index("layers", i), in, stateFloats));
        in = out.back()->outSize();
        weights += out.back()->numWeights();
        if (weights > Limits::maxWeights) r.fail(ErrorCode::Limit, "layers", "more than the limit of weights");
    }
    return std::make_unique<Sequential>(std::move(out), info);
}

}  // namespace rtneural
}  // namespace nscore
