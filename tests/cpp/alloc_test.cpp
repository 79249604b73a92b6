// Proves the real-time contract: after prepare(), process() and reset() perform
// no heap allocation. Global operator new and malloc/calloc/realloc are
// replaced by counting versions; counting is switched on only around the
// real-time calls. Usage: alloc_test MODEL... ; prints one line per model and
// exits 1 if any allocation (or free) happened on the "audio thread".
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <vector>

#include "effect/chain.h"
#include "neuralsynth_core.h"
#include "synth/synth.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
}

static std::atomic<bool> g_counting{false};
static std::atomic<long> g_allocs{0};
static std::atomic<long> g_frees{0};

static inline void noteAlloc() {
    if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
}
static inline void noteFree(void* p) {
    if (p && g_counting.load(std::memory_order_relaxed)) g_frees.fetch_add(1, std::memory_order_relaxed);
}

extern "C" {
void* malloc(size_t n) {
    noteAlloc();
    return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
    noteAlloc();
    return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
    noteAlloc();
    return __libc_realloc(p, n);
}
void free(void* p) {
    noteFree(p);
    __libc_free(p);
}
}

void* operator new(size_t n) {
    noteAlloc();
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
    noteAlloc();
    return __libc_malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
void* operator new(size_t n, std::align_val_t a) {
    noteAlloc();
    void* p = nullptr;
    if (posix_memalign(&p, std::max(sizeof(void*), (size_t)a), n ? n : 1) != 0) throw std::bad_alloc();
    return p;
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept {
    noteFree(p);
    __libc_free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { operator delete(p); }

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: alloc_test MODEL...\n");
        return 2;
    }
    // Self-check: the hook must see an allocation, or a zero count proves nothing.
    g_counting = true;
    { std::vector<float> probe(16); (void)probe; }
    g_counting = false;
    if (g_allocs.load() == 0) {
        std::printf("hook-self-check FAILED: a std::vector allocation was not counted\n");
        return 1;
    }
    int failures = 0;
    if (std::string(argv[1]) == "--synth") {
        // The instrument engine: notes (with voice stealing), pedal, pitch bend, parameter
        // changes, all-sound-off and reset, with the model (argv[2]) in its neural stage.
        namespace syn = nscore::synth;
        syn::SynthEngine engine;
        if (argc > 2) {
            std::string err;
            auto m = nscore::loadModelFile(argv[2], err);
            if (!m) {
                std::printf("synth: model load failed: %s\n", err.c_str());
                return 1;
            }
            engine.setModel(std::move(m));
        }
        engine.prepare(44100.0, 64);
        std::vector<float> L(4096), R(4096);
        std::vector<syn::MidiEvent> ev;
        for (int k = 0; k < 12; ++k) ev.push_back({k * 5, 0x90, (uint8_t)(40 + 3 * k), 100, 0});
        ev.push_back({70, 0xB0, 64, 127, 0});
        ev.push_back({80, 0xE0, 0, 96, 0});
        ev.push_back({90, 0x80, 40, 0, 0});
        ev.push_back({100, 0xB0, 64, 0, 0});
        ev.push_back({300, 0xB0, 120, 0, 0});
        g_allocs = 0;
        g_frees = 0;
        g_counting = true;
        for (int round = 0; round < 3; ++round) {
            engine.setParam(syn::kNeuralMix, round == 1 ? 0.0f : 0.8f);
            engine.setParam(syn::kFilterCutoff, 300.0f + 1000.0f * round);
            engine.setParam(syn::kAmpAttack, 2.0f + round);
            engine.setParam(syn::kLfoShape, (float)round);
            engine.setParam(syn::kReverbSize, 0.2f * round);
            engine.process(ev.data(), (int)ev.size(), L.data(), R.data(), 1000);
            engine.process(nullptr, 0, L.data(), R.data(), 7);
            engine.process(nullptr, 0, L.data(), R.data(), 4096);
            engine.reset();
        }
        g_counting = false;
        bool finite = true;
        for (float v : L) finite = finite && std::isfinite(v);
        const bool ok = g_allocs.load() == 0 && g_frees.load() == 0 && finite;
        std::printf("synth: allocations=%ld frees=%ld finite=%s %s\n", g_allocs.load(), g_frees.load(),
                    finite ? "yes" : "no", ok ? "OK" : "FAIL");
        return ok ? 0 : 1;
    }
    for (int a = 1; a < argc; ++a) {
        std::string err;
        auto m = nscore::loadModelFile(argv[a], err);
        if (!m) {
            std::printf("%s: load failed: %s\n", argv[a], err.c_str());
            ++failures;
            continue;
        }
        const int maxBlock = 64;
        m->prepare(48000.0, maxBlock);
        const int ni = m->numInputs(), no = m->numOutputs();
        const int sizes[] = {1, 7, 64, 65, 513, 4096, 3};
        std::vector<std::vector<float>> in(ni, std::vector<float>(4096)), out(no, std::vector<float>(4096));
        for (int i = 0; i < ni; ++i)
            for (int t = 0; t < 4096; ++t) in[i][t] = 0.5f * std::sin(0.01f * t * (i + 1));
        std::vector<const float*> ip(ni);
        std::vector<float*> op(no);
        for (int i = 0; i < ni; ++i) ip[i] = in[i].data();
        for (int o = 0; o < no; ++o) op[o] = out[o].data();

        g_allocs = 0;
        g_frees = 0;
        g_counting = true;
        for (int round = 0; round < 2; ++round) {
            for (int n : sizes) m->process(ip.data(), op.data(), n);
            m->reset();
        }
        g_counting = false;
        const long allocs = g_allocs.load(), frees = g_frees.load();
        bool finite = true;
        for (auto& o : out)
            for (float v : o) finite = finite && std::isfinite(v);
        const bool ok = allocs == 0 && frees == 0 && finite;
        std::printf("%s: allocations=%ld frees=%ld finite=%s %s\n", argv[a], allocs, frees, finite ? "yes" : "no",
                    ok ? "OK" : "FAIL");
        failures += ok ? 0 : 1;
        // The effect chain (what the plugin and ns_effect_* run), stereo, automated, at the model's
        // rate and (with libsoxr) at 44.1 kHz through the resamplers.
        if (no == 1 && ni - 1 <= nscore::effect::kMaxControls) {
            std::ifstream file(argv[a], std::ios::binary);
            std::stringstream text;
            text << file.rdbuf();
            std::vector<double> rates = {m->info().sampleRate};
#if NEURALSYNTH_WITH_SOXR
            rates.push_back(44100.0);
#endif
            for (double rate : rates) {
                nscore::effect::ModelSlot slot(text.str(), argv[a]);
                nscore::effect::Chain chain;
                slot.prepare(rate, maxBlock);
                chain.prepare(rate, maxBlock);
                std::vector<float> left(in[0].begin(), in[0].begin() + maxBlock), right(left);
                float* ch[2] = {left.data(), right.data()};
                g_allocs = 0;
                g_frees = 0;
                g_counting = true;
                const int rs[] = {1, 7, 64, 33, 64, 2, 64};
                for (int round = 0; round < 40; ++round) {
                    chain.setParam(nscore::effect::kInputGain, (float)(round % 7) - 3.0f);
                    chain.setParam(nscore::effect::kMix, (float)(round * 10 % 100));
                    chain.setParam(nscore::effect::kControl1, (float)(round % 5) * 0.25f);
                    for (int k : rs) chain.process(&slot, ch, 2, k);
                    chain.processBypassed(&slot, ch, 2, 16);
                    if (round % 10 == 9) chain.restart(&slot);
                }
                g_counting = false;
                const bool cok = g_allocs.load() == 0 && g_frees.load() == 0;
                std::printf("%s [effect chain %.0f Hz, latency %d]: allocations=%ld frees=%ld %s\n", argv[a], rate,
                            slot.latency(), g_allocs.load(), g_frees.load(), cok ? "OK" : "FAIL");
                failures += cok ? 0 : 1;
            }
        }
    }
    return failures ? 1 : 0;
}
