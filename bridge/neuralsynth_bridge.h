/* neuralsynth bridge: a C ABI over the header-only C++ core.
 *
 * Every call that can fail returns an ns_status (0 = OK) and, where given, fills
 * `err` (a caller buffer of `err_len` bytes) with a message naming the file, the
 * field and what was expected versus found. No call throws or aborts across this
 * boundary. ns_model_process never allocates, locks or does I/O.
 *
 * This header is the one statement of the ABI: python/neuralsynth/_bridge.py hands the text
 * between the ns-cdef markers to cffi (with NS_API removed), read beside the library it loads.
 * Keep that region plain C declarations (no preprocessor lines).
 */
#ifndef NEURALSYNTH_BRIDGE_H
#define NEURALSYNTH_BRIDGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NS_API __declspec(dllexport)
#else
#define NS_API __attribute__((visibility("default")))
#endif

/* ns-cdef: begin */
typedef enum ns_status {
    NS_OK = 0,
    NS_ERR_IO = 1,
    NS_ERR_PARSE = 2,
    NS_ERR_FORMAT = 3,
    NS_ERR_UNSUPPORTED = 4,
    NS_ERR_LIMIT = 5,
    NS_ERR_ARGUMENT = 6,
    NS_ERR_MEMORY = 7,
    NS_ERR_INTERNAL = 8
} ns_status;

typedef struct ns_model ns_model;

typedef struct ns_model_info {
    char architecture[32];
    char format[16];
    char version[32];
    double sample_rate;
    int sample_rate_known;
    int num_inputs;
    int num_outputs;
    long long num_weights;
    long long macs_per_sample;
    int receptive_field; /* -1 = recurrent */
    int max_block_size;
    long long state_bytes;
} ns_model_info;

NS_API const char* ns_version(void);
NS_API const char* ns_build_flags(void);
/* The x86-64 micro-architecture level this CPU supports (1..4, as in x86-64-v2/v3/v4), or 0
 * elsewhere. A portable build ships one library per level; Python loads the best one. */
NS_API int ns_cpu_level(void);
/* sizeof the named struct ("ns_model_info", "ns_param_info", "ns_midi_event") as this library was
 * compiled, or 0 for another name: lets a caller check its declarations against the library. */
NS_API size_t ns_struct_size(const char* type_name);

/* Load and prepare(sample_rate, max_block_size). On failure *out is NULL. */
NS_API int ns_model_load_file(const char* path, double sample_rate, int max_block_size, ns_model** out, char* err,
                              size_t err_len);
NS_API int ns_model_load_text(const char* json_text, size_t len, const char* name, double sample_rate,
                              int max_block_size, ns_model** out, char* err, size_t err_len);
NS_API void ns_model_free(ns_model* m);

NS_API int ns_model_prepare(ns_model* m, double sample_rate, int max_block_size, char* err, size_t err_len);
NS_API int ns_model_info_get(const ns_model* m, ns_model_info* info);

/* inputs: num_inputs planar arrays of n floats; outputs: num_outputs planar arrays. */
NS_API int ns_model_process(ns_model* m, const float* const* inputs, float* const* outputs, int n);
NS_API int ns_model_reset(ns_model* m);

/* Time process() on `num_samples` of noise in blocks of `block_size` (after a warm-up);
 * writes nanoseconds per sample. */
NS_API int ns_model_bench(ns_model* m, int block_size, long long num_samples, double* ns_per_sample, char* err,
                          size_t err_len);


/* ---------------------------------------------------------------- the NeuralSynth instrument
 * The same engine the instrument plugin runs (plugin_src/core/synth). Parameters are
 * addressed by index 0..ns_synth_param_count()-1; real values are in the parameter's unit,
 * normalized values in 0..1 (the host / .fxp view). ns_synth_process never allocates. */
typedef struct ns_synth ns_synth;

typedef struct ns_param_info {
    char id[32];
    char name[48];
    char unit[8];
    char group[24];
    char choices[128]; /* '|'-separated labels of a choice parameter, else "" */
    float min_value, max_value, default_value;
    int scale;  /* 0 linear, 1 log, 2 int, 3 choice, 4 cubic, 5 toggle (0 off / 1 on) */
    float step; /* the value grid (0: continuous) */
} ns_param_info;

typedef struct ns_midi_event {
    int sample; /* offset inside the ns_synth_process call */
    unsigned char status, data1, data2, pad;
} ns_midi_event;

NS_API int ns_synth_param_count(void);
NS_API int ns_synth_param_info(int index, ns_param_info* info);
NS_API float ns_synth_param_from_normalized(int index, float normalized);
NS_API float ns_synth_param_to_normalized(int index, float value);

NS_API int ns_synth_create(double sample_rate, int max_block_size, ns_synth** out, char* err, size_t err_len);
NS_API void ns_synth_free(ns_synth* s);
/* The neural stage's model (path NULL = none). Prepared at the synth's rate and block size. */
NS_API int ns_synth_load_model_file(ns_synth* s, const char* path, char* err, size_t err_len);
NS_API int ns_synth_set_param(ns_synth* s, int index, float value);
NS_API int ns_synth_set_param_normalized(ns_synth* s, int index, float normalized);
NS_API float ns_synth_get_param(const ns_synth* s, int index);
NS_API int ns_synth_reset(ns_synth* s);
/* events sorted by sample; left/right: n floats each */
NS_API int ns_synth_process(ns_synth* s, const ns_midi_event* events, int num_events, float* left, float* right,
                            int n);
NS_API int ns_synth_active_voices(const ns_synth* s);

/* ---------------------------------------------------------------- the effect chain
 * The same chain the effect plugin runs (plugin_src/core/effect): per channel, input gain ->
 * model (at its own rate through libsoxr when the chain runs at another) -> DC blocker -> output
 * gain, mixed with the dry input delayed by the chain's latency; non-finite input is zeroed and
 * a non-finite model output resets the model. Parameters come from one table
 * (ns_effect_param_info), real values in their unit; changes ramp over 20 ms. */
typedef struct ns_effect ns_effect;

NS_API int ns_effect_param_count(void);
NS_API int ns_effect_param_info(int index, ns_param_info* info);
NS_API int ns_effect_max_channels(void);
NS_API double ns_effect_dc_cutoff_hz(void);

/* model_path NULL = no model (the wet path is silent). Prepared for sample_rate, max_block_size. */
NS_API int ns_effect_create(const char* model_path, double sample_rate, int max_block_size, ns_effect** out,
                            char* err, size_t err_len);
NS_API void ns_effect_free(ns_effect* e);
/* As a host's prepareToPlay: fresh model state, resamplers, DC blockers and dry delay; ramps
 * start at the current parameter values. */
NS_API int ns_effect_prepare(ns_effect* e, double sample_rate, int max_block_size, char* err, size_t err_len);
NS_API int ns_effect_set_param(ns_effect* e, int index, float value);
NS_API float ns_effect_get_param(const ns_effect* e, int index);
NS_API int ns_effect_latency(const ns_effect* e);      /* samples the wet and dry paths are delayed */
NS_API int ns_effect_num_controls(const ns_effect* e); /* the model's control inputs in use */
NS_API double ns_effect_tail_seconds(const ns_effect* e);
/* channels: num_channels arrays of n floats, processed in place (channels beyond
 * ns_effect_max_channels() are cleared). Never allocates. */
NS_API int ns_effect_process(ns_effect* e, float* const* channels, int num_channels, int n);
/* A host's own bypass: the sanitised input, delayed by the latency; the model's state is kept. */
NS_API int ns_effect_process_bypassed(ns_effect* e, float* const* channels, int num_channels, int n);
/* 1 once after a block whose model output was non-finite (the model was reset), else 0. */
NS_API int ns_effect_take_non_finite_reset(ns_effect* e);
/* ns-cdef: end */

#ifdef __cplusplus
}
#endif

#endif
