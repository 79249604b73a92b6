// Reader for NAM `.nam` files, format version 0.5.x (Neural Amp Modeler).
// The file is the contract: weights are consumed in exactly the order the NAM
// project defines for each architecture, and their count must match exactly.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "../layers/conv1d.h"
#include "../layers/dense.h"
#include "../layers/lstm.h"
#include "../models/sequential.h"
#include "../models/wavenet.h"
#include "json_reader.h"

namespace nscore {
namespace nam {

// Sequential cursor over the flat weight list.
class WeightCursor {
public:
    explicit WeightCursor(const Buffer& w) : w_(w) {}
    float next() { return w_[i_++]; }
    size_t used() const { return i_; }

private:
    const Buffer& w_;
    size_t i_ = 0;
};

inline void checkVersion(const JsonReader& r, const json& root) {
    const std::string v = r.string(r.field(root, "version", ""), "version");
    int major = -1, minor = -1, patch = 0;
    if (std::sscanf(v.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2)
        r.fail(ErrorCode::Format, "version", "expected a version like \"0.5.4\", found \"" + v + "\"");
    if (major != 0 || minor != 5)
        r.fail(ErrorCode::Unsupported, "version",
               "NAM format " + v + " is not supported; this loader reads NAM format 0.5.x" +
                   ((major > 0 || minor > 5) ? " (the file is newer: re-export it from a 0.5-era trainer or update neuralsynth)"
                                             : " (the file is older: re-export it with a current trainer)"));
}

inline Buffer readWeights(const JsonReader& r, const json& root, long long expected,
                                      const std::string& arch) {
    const json& w = r.array(r.field(root, "weights", ""), "weights");
    if ((long long)w.size() != expected)
        r.fail(ErrorCode::Format, "weights",
               "expected " + std::to_string(expected) + " values for this " + arch + " config, found " +
                   std::to_string(w.size()));
    Buffer out;
    out.reserve(w.size());
    for (size_t i = 0; i < w.size(); ++i) out.push_back(r.finiteFloat(w[i], JsonReader::index("weights", i)));
    return out;
}

inline Activation activationByName(const JsonReader& r, const json& j, const std::string& path) {
    const std::string n = r.string(j, path);
    if (n == "Tanh" || n == "Fasttanh") return {Act::Tanh};
    if (n == "ReLU") return {Act::ReLU};
    if (n == "Sigmoid") return {Act::Sigmoid};
    if (n == "Hardtanh") return {Act::Hardtanh};
    if (n == "LeakyReLU") return {Act::LeakyReLU, 0.01f};
    r.fail(ErrorCode::Unsupported, path,
           "unknown activation \"" + n + "\" (supported: Tanh, Fasttanh, ReLU, Sigmoid, Hardtanh, LeakyReLU)");
}

inline std::unique_ptr<Model> loadWaveNet(const JsonReader& r, const json& root, ModelInfo info) {
    const json& cfg = r.field(root, "config", "");
    if (const json* head = r.optional(cfg, "head"))
        r.fail(ErrorCode::Unsupported, "config.head",
               "a post-array head is not supported (NAM 0.5 defines none); expected null, found " + describeJson(*head));
    r.number(r.field(cfg, "head_scale", "config"), "config.head_scale");
    const json& arrays = r.array(r.field(cfg, "layers", "config"), "config.layers");
    if (arrays.empty()) r.fail(ErrorCode::Format, "config.layers", "expected at least one layer array, found none");
    if (arrays.size() > 64) r.fail(ErrorCode::Limit, "config.layers", "more than 64 layer arrays");

    std::vector<WaveNetArrayConfig> cfgs;
    long long expected = 1;  // the trailing head_scale
    long long stateFloats = 0;
    for (size_t a = 0; a < arrays.size(); ++a) {
        const std::string p = JsonReader::index("config.layers", a);
        const json& L = arrays[a];
        WaveNetArrayConfig c;
        auto num = [&](const char* key, long long lo, long long hi) {
            return (int)r.integer(r.field(L, key, p), JsonReader::join(p, key), lo, hi);
        };
        c.inputSize = num("input_size", 1, Limits::maxChannels);
        c.conditionSize = num("condition_size", 1, Limits::maxInputs);
        c.headSize = num("head_size", 1, Limits::maxChannels);
        c.channels = num("channels", 1, Limits::maxChannels);
        c.kernelSize = num("kernel_size", 1, Limits::maxKernel);
        c.activation = activationByName(r, r.field(L, "activation", p), JsonReader::join(p, "activation"));
        c.gated = r.boolean(r.field(L, "gated", p), JsonReader::join(p, "gated"));
        c.headBias = r.boolean(r.field(L, "head_bias", p), JsonReader::join(p, "head_bias"));
        const std::string dp = JsonReader::join(p, "dilations");
        const json& dil = r.array(r.field(L, "dilations", p), dp);
        if (dil.empty()) r.fail(ErrorCode::Format, dp, "expected at least one dilation, found none");
        if (dil.size() > (size_t)Limits::maxLayers) r.fail(ErrorCode::Limit, dp, "more than " + std::to_string(Limits::maxLayers) + " layers");
        for (size_t i = 0; i < dil.size(); ++i) {
            c.dilations.push_back((int)r.integer(dil[i], JsonReader::index(dp, i), 1, Limits::maxDilation));
            const long long hist = (long long)c.dilations.back() * (c.kernelSize - 1);
            if (hist > Limits::maxHistory)
                r.fail(ErrorCode::Limit, JsonReader::index(dp, i),
                       "dilation x (kernel_size - 1) = " + std::to_string(hist) + " samples of history exceeds the limit of " +
                           std::to_string(Limits::maxHistory));
            stateFloats += historyFloats(WaveNet::padded(c.channels), hist);
        }
        if (a == 0 && c.inputSize != c.conditionSize)
            r.fail(ErrorCode::Format, JsonReader::join(p, "input_size"),
                   "the first layer array takes the model input, so input_size must equal condition_size (" +
                       std::to_string(c.conditionSize) + "), found " + std::to_string(c.inputSize));
        if (a > 0) {
            const auto& prev = cfgs.back();
            if (c.inputSize != prev.channels)
                r.fail(ErrorCode::Format, JsonReader::join(p, "input_size"),
                       "expected " + std::to_string(prev.channels) + " (channels of layer array " + std::to_string(a - 1) +
                           "), found " + std::to_string(c.inputSize));
            if (prev.headSize != c.channels)
                r.fail(ErrorCode::Format, JsonReader::join(JsonReader::index("config.layers", a - 1), "head_size"),
                       "expected " + std::to_string(c.channels) + " (channels of the next layer array, which sums onto it), found " +
                           std::to_string(prev.headSize));
            if (c.conditionSize != cfgs.front().conditionSize)
                r.fail(ErrorCode::Format, JsonReader::join(p, "condition_size"),
                       "expected " + std::to_string(cfgs.front().conditionSize) + " (every array sees the same condition), found " +
                           std::to_string(c.conditionSize));
        }
        const long long C = c.channels, G = c.gated ? 2 : 1;
        expected += C * c.inputSize + (long long)c.headSize * C + (c.headBias ? c.headSize : 0);
        expected += (long long)c.dilations.size() * (c.kernelSize * C * G * C + G * C + G * C * c.conditionSize + C * C + C);
        if (expected > Limits::maxWeights)
            r.fail(ErrorCode::Limit, p, "the architecture needs " + std::to_string(expected) +
                                            " weights, more than the limit of " + std::to_string(Limits::maxWeights));
        cfgs.push_back(c);
    }
    if (cfgs.back().headSize != 1 && cfgs.back().headSize > 64)
        r.fail(ErrorCode::Limit, "config.layers", "the last head_size is over 64 outputs");
    if (stateFloats > Limits::maxStateFloats)
        r.fail(ErrorCode::Limit, "config.layers",
               "the dilated convolutions' history would need " + std::to_string(stateFloats) +
                   " floats of state, more than the limit of " + std::to_string(Limits::maxStateFloats) + " (1 GiB)");

    const Buffer w = readWeights(r, root, expected, "WaveNet");
    WeightCursor cur(w);
    std::vector<WaveNetArrayWeights> weights(cfgs.size());
    for (size_t a = 0; a < cfgs.size(); ++a) {
        const auto& c = cfgs[a];
        auto& A = weights[a];
        const int C = c.channels, G = c.gated ? 2 : 1, GC = G * C, K = c.kernelSize;
        A.rechannel.assign((size_t)C * c.inputSize, 0.0f);
        for (int i = 0; i < C; ++i)
            for (int j = 0; j < c.inputSize; ++j) A.rechannel[(size_t)j * C + i] = cur.next();
        A.layers.resize(c.dilations.size());
        for (auto& L : A.layers) {
            L.conv.assign((size_t)K * GC * C, 0.0f);
            for (int i = 0; i < GC; ++i)
                for (int j = 0; j < C; ++j)
                    for (int k = 0; k < K; ++k) L.conv[(size_t)k * GC * C + (size_t)j * GC + i] = cur.next();
            for (int i = 0; i < GC; ++i) L.convB.push_back(cur.next());
            L.mix.assign((size_t)GC * c.conditionSize, 0.0f);
            for (int i = 0; i < GC; ++i)
                for (int j = 0; j < c.conditionSize; ++j) L.mix[(size_t)j * GC + i] = cur.next();
            L.w1x1.assign((size_t)C * C, 0.0f);
            for (int i = 0; i < C; ++i)
                for (int j = 0; j < C; ++j) L.w1x1[(size_t)j * C + i] = cur.next();
            for (int i = 0; i < C; ++i) L.b1x1.push_back(cur.next());
        }
        A.head.assign((size_t)c.headSize * C, 0.0f);
        for (int i = 0; i < c.headSize; ++i)
            for (int j = 0; j < C; ++j) A.head[(size_t)j * c.headSize + i] = cur.next();
        if (c.headBias)
            for (int i = 0; i < c.headSize; ++i) A.headB.push_back(cur.next());
    }
    const float headScale = cur.next();
    return std::make_unique<WaveNet>(std::move(cfgs), std::move(weights), headScale, info);
}

inline std::unique_ptr<Model> loadLSTM(const JsonReader& r, const json& root, ModelInfo info) {
    const json& cfg = r.field(root, "config", "");
    const int I = (int)r.integer(r.field(cfg, "input_size", "config"), "config.input_size", 1, Limits::maxInputs);
    const int H = (int)r.integer(r.field(cfg, "hidden_size", "config"), "config.hidden_size", 1, Limits::maxChannels);
    const int NL = (int)r.integer(r.field(cfg, "num_layers", "config"), "config.num_layers", 1, 64);
    long long expected = H + 1;
    for (int l = 0; l < NL; ++l) {
        const long long in = l == 0 ? I : H;
        expected += 4LL * H * (in + H) + 4LL * H + 2LL * H;
    }
    if (expected > Limits::maxWeights)
        r.fail(ErrorCode::Limit, "config", "the architecture needs " + std::to_string(expected) + " weights, more than the limit");
    const Buffer w = readWeights(r, root, expected, "LSTM");
    WeightCursor cur(w);
    auto gateRow = [H](int r) {  // file order i, f, g, o -> internal i, f, o, g
        const int q = r / H, k = r % H;
        static const int perm[4] = {0, 1, 3, 2};
        return perm[q] * H + k;
    };
    std::vector<std::unique_ptr<Layer>> layers;
    for (int l = 0; l < NL; ++l) {
        const int in = l == 0 ? I : H;
        Buffer Wx((size_t)4 * H * in), U((size_t)4 * H * H), b(4 * H), h0(H), c0(H);
        for (int row = 0; row < 4 * H; ++row) {
            const int ir = gateRow(row);
            for (int j = 0; j < in; ++j) Wx[(size_t)j * 4 * H + ir] = cur.next();
            for (int j = 0; j < H; ++j) U[(size_t)j * 4 * H + ir] = cur.next();
        }
        for (int row = 0; row < 4 * H; ++row) b[gateRow(row)] = cur.next();
        for (int i = 0; i < H; ++i) h0[i] = cur.next();
        for (int i = 0; i < H; ++i) c0[i] = cur.next();
        const long long stored = 4LL * H * (in + H) + 4LL * H + 2LL * H;
        layers.push_back(std::make_unique<LSTM>(in, H, std::move(Wx), std::move(U), std::move(b), std::move(h0),
                                                std::move(c0), stored));
    }
    Buffer hw(H), hb(1);
    for (int i = 0; i < H; ++i) hw[i] = cur.next();
    hb[0] = cur.next();
    layers.push_back(std::make_unique<Dense>(H, 1, std::move(hw), std::move(hb)));
    info.architecture = "LSTM";
    return std::make_unique<Sequential>(std::move(layers), info);
}

// NAM Linear: y[t] = b + sum_k w[k] x[t - k] (w[0] multiplies the newest sample,
// as NeuralAmpModelerCore applies it).
inline std::unique_ptr<Model> loadLinear(const JsonReader& r, const json& root, ModelInfo info) {
    const json& cfg = r.field(root, "config", "");
    const int R = (int)r.integer(r.field(cfg, "receptive_field", "config"), "config.receptive_field", 1, 1 << 20);
    const bool bias = r.boolean(r.field(cfg, "bias", "config"), "config.bias");
    const Buffer w = readWeights(r, root, R + (bias ? 1 : 0), "Linear");
    Buffer W(R);
    for (int k = 0; k < R; ++k) W[(size_t)(R - 1 - k)] = w[k];  // tap R-1 is the current sample
    Buffer b;
    if (bias) b.push_back(w[R]);
    std::vector<std::unique_ptr<Layer>> layers;
    layers.push_back(std::make_unique<Conv1D>(1, 1, R, 1, 1, std::move(W), std::move(b)));
    info.architecture = "Linear";
    return std::make_unique<Sequential>(std::move(layers), info);
}

using Builder = std::function<std::unique_ptr<Model>(const JsonReader&, const json&, ModelInfo)>;

// The factory: architecture name -> builder (the NAM convention).
inline const std::map<std::string, Builder>& registry() {
    static const std::map<std::string, Builder> reg = {
        {"WaveNet", loadWaveNet},
        {"LSTM", loadLSTM},
        {"Linear", loadLinear},
    };
    return reg;
}

inline std::unique_ptr<Model> load(const JsonReader& r, const json& root) {
    checkVersion(r, root);
    ModelInfo info;
    info.format = "nam";
    info.version = root["version"].get<std::string>();
    if (const json* sr = r.optional(root, "sample_rate")) {
        const double v = r.number(*sr, "sample_rate");
        if (v < 1000.0 || v > 1e6) r.fail(ErrorCode::Format, "sample_rate", "expected a rate in 1000..1000000 Hz, found " + describeJson(*sr));
        info.sampleRate = v;
        info.sampleRateKnown = true;
    }
    const std::string arch = r.string(r.field(root, "architecture", ""), "architecture");
    const auto& reg = registry();
    auto it = reg.find(arch);
    if (it == reg.end()) {
        std::string names;
        for (auto& kv : reg) names += (names.empty() ? "" : ", ") + kv.first;
        r.fail(ErrorCode::Unsupported, "architecture", "unknown architecture \"" + arch + "\" (supported: " + names + ")");
    }
    auto m = it->second(r, root, info);
    return m;
}

}  // namespace nam
}  // namespace nscore
