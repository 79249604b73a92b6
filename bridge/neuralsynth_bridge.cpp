// Thin extern "C" shell over the core: exceptions stop here and become codes + messages.
#include "neuralsynth_bridge.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "neuralsynth_core.h"
#include "synth/synth.h"
#include "effect/chain.h"
#include "dsp/denormals.h"

struct ns_model {
    std::unique_ptr<nscore::Model> model;
};

struct ns_synth {
    nscore::synth::SynthEngine engine;
};

struct ns_effect {
    nscore::effect::Chain chain;
    std::unique_ptr<nscore::effect::ModelSlot> slot;  // null: no model
};

static_assert(sizeof(ns_midi_event) == sizeof(nscore::synth::MidiEvent), "MIDI event layout");

// The C status codes are the core's error codes.
using nscore::ErrorCode;
static_assert((int)ErrorCode::Ok == NS_OK && (int)ErrorCode::Io == NS_ERR_IO && (int)ErrorCode::Parse == NS_ERR_PARSE &&
                  (int)ErrorCode::Format == NS_ERR_FORMAT && (int)ErrorCode::Unsupported == NS_ERR_UNSUPPORTED &&
                  (int)ErrorCode::Limit == NS_ERR_LIMIT && (int)ErrorCode::Argument == NS_ERR_ARGUMENT &&
                  (int)ErrorCode::Memory == NS_ERR_MEMORY && (int)ErrorCode::Internal == NS_ERR_INTERNAL,
              "ns_status and nscore::ErrorCode must agree");
// The parameter scales the C ABI names are the tables' own.
static_assert((int)nscore::synth::Scale::Linear == 0 && (int)nscore::synth::Scale::Log == 1 &&
                  (int)nscore::synth::Scale::Int == 2 && (int)nscore::synth::Scale::Choice == 3 &&
                  (int)nscore::synth::Scale::Cubic == 4,
              "ns_param_info.scale codes");
constexpr int kScaleToggle = 5;

namespace {

int setError(char* err, size_t len, int code, const std::string& msg) {
    if (err && len > 0) {
        const size_t n = std::min(len - 1, msg.size());
        std::memcpy(err, msg.data(), n);
        err[n] = '\0';
    }
    return code;
}

template <typename F>
int guarded(char* err, size_t len, F&& f) {
    try {
        return f();
    } catch (const nscore::ModelError& e) {
        return setError(err, len, (int)e.code, e.what());
    } catch (const std::bad_alloc&) {
        return setError(err, len, NS_ERR_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return setError(err, len, NS_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return setError(err, len, NS_ERR_INTERNAL, "internal error");
    }
}

void copyStr(char* dst, size_t n, const std::string& s) {
    std::strncpy(dst, s.c_str(), n - 1);
    dst[n - 1] = '\0';
}

}  // namespace

extern "C" {

const char* ns_version(void) { return NEURALSYNTH_VERSION; }

const char* ns_build_flags(void) { return NEURALSYNTH_BUILD_FLAGS; }

int ns_cpu_level(void) {
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    // GCC 12 knows the levels as a whole (LZCNT, MOVBE, F16C, XSAVE ... included), and checks
    // the operating system's support for the AVX and AVX-512 register state.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
    if (__builtin_cpu_supports("x86-64-v2")) return 2;
    return 1;
#elif (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
    // Other compilers: the defining features of each level.
    __builtin_cpu_init();
    const bool v2 = __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt") &&
                    __builtin_cpu_supports("ssse3");
    const bool v3 = v2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
    return v4 ? 4 : v3 ? 3 : v2 ? 2 : 1;
#else
    return 0;
#endif
}

size_t ns_struct_size(const char* name) {
    if (!name) return 0;
    const std::string n(name);
    if (n == "ns_model_info") return sizeof(ns_model_info);
    if (n == "ns_param_info") return sizeof(ns_param_info);
    if (n == "ns_midi_event") return sizeof(ns_midi_event);
    return 0;
}

int ns_model_load_text(const char* text, size_t len, const char* name, double sr, int maxBlock, ns_model** out,
                       char* err, size_t errLen) {
    if (out) *out = nullptr;
    if (!text || !out) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_model_load_text: null argument");
    return guarded(err, errLen, [&] {
        auto h = std::make_unique<ns_model>();
        h->model = nscore::loadModelFromText(std::string(text, len), name ? name : "<text>");
        h->model->prepare(sr, maxBlock);
        *out = h.release();
        return (int)NS_OK;
    });
}

int ns_model_load_file(const char* path, double sr, int maxBlock, ns_model** out, char* err, size_t errLen) {
    if (out) *out = nullptr;
    if (!path || !out) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_model_load_file: null argument");
    return guarded(err, errLen, [&] {
        auto h = std::make_unique<ns_model>();
        h->model = nscore::loadModelFile(path);
        h->model->prepare(sr, maxBlock);
        *out = h.release();
        return (int)NS_OK;
    });
}

void ns_model_free(ns_model* m) { delete m; }

int ns_model_prepare(ns_model* m, double sr, int maxBlock, char* err, size_t errLen) {
    if (!m) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_model_prepare: null model");
    return guarded(err, errLen, [&] {
        m->model->prepare(sr, maxBlock);
        return (int)NS_OK;
    });
}

int ns_model_info_get(const ns_model* m, ns_model_info* info) {
    if (!m || !info) return NS_ERR_ARGUMENT;
    const auto& i = m->model->info();
    std::memset(info, 0, sizeof(*info));
    copyStr(info->architecture, sizeof(info->architecture), i.architecture);
    copyStr(info->format, sizeof(info->format), i.format);
    copyStr(info->version, sizeof(info->version), i.version);
    info->sample_rate = i.sampleRate;
    info->sample_rate_known = i.sampleRateKnown ? 1 : 0;
    info->num_inputs = i.numInputs;
    info->num_outputs = i.numOutputs;
    info->num_weights = i.numWeights;
    info->macs_per_sample = i.macsPerSample;
    info->receptive_field = i.receptiveField;
    info->max_block_size = m->model->maxBlockSize();
    info->state_bytes = (long long)(m->model->stateFloats() * sizeof(float));
    return NS_OK;
}

int ns_model_process(ns_model* m, const float* const* inputs, float* const* outputs, int n) {
    if (!m || !inputs || !outputs || n < 0) return NS_ERR_ARGUMENT;
    nscore::ScopedFlushDenormals ftz;  // as in the plugins (JUCE ScopedNoDenormals)
    m->model->process(inputs, outputs, n);
    return NS_OK;
}

int ns_model_reset(ns_model* m) {
    if (!m) return NS_ERR_ARGUMENT;
    m->model->reset();
    return NS_OK;
}

int ns_model_bench(ns_model* m, int block, long long numSamples, double* nsPerSample, char* err, size_t errLen) {
    if (!m || !nsPerSample || block < 1 || numSamples < 1)
        return setError(err, errLen, NS_ERR_ARGUMENT, "ns_model_bench: bad argument");
    return guarded(err, errLen, [&] {
        nscore::ScopedFlushDenormals ftz;
        auto& model = *m->model;
        const int ni = model.numInputs(), no = model.numOutputs();
        std::vector<std::vector<float>> in(ni, std::vector<float>(block)), out(no, std::vector<float>(block));
        std::mt19937 rng(1234);
        std::uniform_real_distribution<float> u(-0.5f, 0.5f);
        for (auto& ch : in)
            for (auto& v : ch) v = u(rng);
        std::vector<const float*> ip(ni);
        std::vector<float*> op(no);
        for (int i = 0; i < ni; ++i) ip[i] = in[i].data();
        for (int o = 0; o < no; ++o) op[o] = out[o].data();
        const long long warm = std::min<long long>(numSamples / 10 + block, 48000);
        for (long long s = 0; s < warm; s += block) model.process(ip.data(), op.data(), block);
        const auto t0 = std::chrono::steady_clock::now();
        long long done = 0;
        while (done < numSamples) {
            model.process(ip.data(), op.data(), block);
            done += block;
        }
        const auto t1 = std::chrono::steady_clock::now();
        *nsPerSample = std::chrono::duration<double, std::nano>(t1 - t0).count() / (double)done;
        model.reset();
        return (int)NS_OK;
    });
}

int ns_synth_param_count(void) { return nscore::synth::kNumParams; }

int ns_synth_param_info(int index, ns_param_info* info) {
    using namespace nscore::synth;
    if (!info || index < 0 || index >= kNumParams) return NS_ERR_ARGUMENT;
    const ParamSpec& p = paramSpec(index);
    std::memset(info, 0, sizeof(*info));
    copyStr(info->id, sizeof(info->id), p.id);
    copyStr(info->name, sizeof(info->name), p.name);
    copyStr(info->unit, sizeof(info->unit), p.unit);
    copyStr(info->group, sizeof(info->group), p.group);
    copyStr(info->choices, sizeof(info->choices), p.choices);
    info->min_value = p.min;
    info->max_value = p.max;
    info->default_value = paramDefault(index);
    info->scale = (int)p.scale;
    info->step = (p.scale == Scale::Int || p.scale == Scale::Choice) ? 1.0f : 0.0f;
    return NS_OK;
}

float ns_synth_param_from_normalized(int index, float n) {
    if (index < 0 || index >= nscore::synth::kNumParams) return 0.0f;
    return nscore::synth::paramFromNormalized(index, n);
}

float ns_synth_param_to_normalized(int index, float v) {
    if (index < 0 || index >= nscore::synth::kNumParams) return 0.0f;
    return nscore::synth::paramToNormalized(index, v);
}

int ns_synth_create(double sr, int maxBlock, ns_synth** out, char* err, size_t errLen) {
    if (out) *out = nullptr;
    if (!out) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_synth_create: null argument");
    return guarded(err, errLen, [&] {
        auto h = std::make_unique<ns_synth>();
        h->engine.prepare(sr, maxBlock);
        *out = h.release();
        return (int)NS_OK;
    });
}

void ns_synth_free(ns_synth* s) { delete s; }

int ns_synth_load_model_file(ns_synth* s, const char* path, char* err, size_t errLen) {
    if (!s) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_synth_load_model_file: null synth");
    return guarded(err, errLen, [&] {
        s->engine.setModel(path ? nscore::loadModelFile(path) : nullptr);
        s->engine.reset();
        return (int)NS_OK;
    });
}

int ns_synth_set_param(ns_synth* s, int index, float value) {
    if (!s || index < 0 || index >= nscore::synth::kNumParams) return NS_ERR_ARGUMENT;
    s->engine.setParam(index, value);
    return NS_OK;
}

int ns_synth_set_param_normalized(ns_synth* s, int index, float n) {
    if (!s || index < 0 || index >= nscore::synth::kNumParams) return NS_ERR_ARGUMENT;
    s->engine.setParamNormalized(index, n);
    return NS_OK;
}

float ns_synth_get_param(const ns_synth* s, int index) { return s ? s->engine.param(index) : 0.0f; }

int ns_synth_reset(ns_synth* s) {
    if (!s) return NS_ERR_ARGUMENT;
    s->engine.reset();
    return NS_OK;
}

int ns_synth_process(ns_synth* s, const ns_midi_event* events, int numEvents, float* left, float* right, int n) {
    if (!s || !left || !right || n < 0 || numEvents < 0 || (numEvents > 0 && !events)) return NS_ERR_ARGUMENT;
    for (int i = 0; i < numEvents; ++i)
        if (events[i].sample < 0 || (i > 0 && events[i].sample < events[i - 1].sample)) return NS_ERR_ARGUMENT;
    nscore::ScopedFlushDenormals ftz;  // as in the plugins (JUCE ScopedNoDenormals)
    s->engine.process(reinterpret_cast<const nscore::synth::MidiEvent*>(events), numEvents, left, right, n);
    return NS_OK;
}

int ns_synth_active_voices(const ns_synth* s) { return s ? s->engine.activeVoices() : 0; }

int ns_effect_param_count(void) { return nscore::effect::kNumParams; }

int ns_effect_param_info(int index, ns_param_info* info) {
    using namespace nscore::effect;
    if (!info || index < 0 || index >= kNumParams) return NS_ERR_ARGUMENT;
    const ParamSpec& p = paramSpec(index);
    std::memset(info, 0, sizeof(*info));
    copyStr(info->id, sizeof(info->id), p.id);
    copyStr(info->name, sizeof(info->name), p.name);
    copyStr(info->unit, sizeof(info->unit), p.unit);
    copyStr(info->group, sizeof(info->group), index >= kControl1 ? "Controls" : "Effect");
    info->min_value = p.min;
    info->max_value = p.max;
    info->default_value = p.def;
    info->scale = p.kind == Kind::Toggle ? kScaleToggle : (int)nscore::synth::Scale::Linear;
    info->step = p.step;
    return NS_OK;
}

int ns_effect_max_channels(void) { return nscore::effect::kMaxChannels; }

double ns_effect_dc_cutoff_hz(void) { return nscore::DcBlocker::kCutoffHz; }

int ns_effect_prepare(ns_effect* e, double sr, int maxBlock, char* err, size_t errLen) {
    if (!e) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_effect_prepare: null effect");
    if (!(sr > 0.0) || sr > 1e6)
        return setError(err, errLen, NS_ERR_ARGUMENT, "ns_effect_prepare: sample rate must be in (0, 1e6] Hz, got " +
                                                          std::to_string(sr));
    if (maxBlock < 1 || maxBlock > nscore::Limits::maxBlockSize)
        return setError(err, errLen, NS_ERR_ARGUMENT,
                        "ns_effect_prepare: max block size must be in 1.." +
                            std::to_string(nscore::Limits::maxBlockSize) + ", got " + std::to_string(maxBlock));
    return guarded(err, errLen, [&] {
        if (e->slot) e->slot->prepare(sr, maxBlock);
        e->chain.prepare(sr, maxBlock);
        return (int)NS_OK;
    });
}

int ns_effect_create(const char* path, double sr, int maxBlock, ns_effect** out, char* err, size_t errLen) {
    if (out) *out = nullptr;
    if (!out) return setError(err, errLen, NS_ERR_ARGUMENT, "ns_effect_create: null argument");
    std::unique_ptr<ns_effect> h;
    const int rc = guarded(err, errLen, [&] {
        h = std::make_unique<ns_effect>();
        if (path) h->slot = std::make_unique<nscore::effect::ModelSlot>(nscore::readTextFile(path), path);
        return (int)NS_OK;
    });
    if (rc != NS_OK) return rc;
    const int prc = ns_effect_prepare(h.get(), sr, maxBlock, err, errLen);
    if (prc != NS_OK) return prc;
    *out = h.release();
    return NS_OK;
}

void ns_effect_free(ns_effect* e) { delete e; }

int ns_effect_set_param(ns_effect* e, int index, float value) {
    if (!e || index < 0 || index >= nscore::effect::kNumParams) return NS_ERR_ARGUMENT;
    e->chain.setParam(index, value);
    return NS_OK;
}

float ns_effect_get_param(const ns_effect* e, int index) { return e ? e->chain.param(index) : 0.0f; }

int ns_effect_latency(const ns_effect* e) { return e && e->slot ? e->slot->latency() : 0; }

int ns_effect_num_controls(const ns_effect* e) { return e && e->slot ? e->slot->numControls() : 0; }

double ns_effect_tail_seconds(const ns_effect* e) { return e ? e->chain.tailSeconds(e->slot.get()) : 0.0; }

static int checkChannels(float* const* channels, int numChannels, int n) {
    if (!channels || numChannels < 1 || n < 0) return NS_ERR_ARGUMENT;
    for (int c = 0; c < numChannels; ++c)
        if (!channels[c]) return NS_ERR_ARGUMENT;
    return NS_OK;
}

int ns_effect_process(ns_effect* e, float* const* channels, int numChannels, int n) {
    if (!e || checkChannels(channels, numChannels, n) != NS_OK) return NS_ERR_ARGUMENT;
    nscore::ScopedFlushDenormals ftz;  // as in the plugins (JUCE ScopedNoDenormals)
    e->chain.process(e->slot.get(), channels, numChannels, n);
    return NS_OK;
}

int ns_effect_process_bypassed(ns_effect* e, float* const* channels, int numChannels, int n) {
    if (!e || checkChannels(channels, numChannels, n) != NS_OK) return NS_ERR_ARGUMENT;
    nscore::ScopedFlushDenormals ftz;
    e->chain.processBypassed(e->slot.get(), channels, numChannels, n);
    return NS_OK;
}

int ns_effect_take_non_finite_reset(ns_effect* e) { return e && e->chain.takeNonFiniteReset() ? 1 : 0; }

}  // extern "C"
