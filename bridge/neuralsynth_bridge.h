/* neuralsynth bridge: a C ABI over the header-only C++ core.
 *
 * Every call that can fail returns an ns_status (0 = OK) and, where given, fills
 * `err` (a caller buffer of `err_len` bytes) with a message naming the file, the
 * field and what was expected versus found. No call throws or aborts across this
 * boundary. ns_model_process never allocates, locks or does I/O.
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
    int latency;
    int max_block_size;
    long long state_bytes;
} ns_model_info;

NS_API const char* ns_version(void);
NS_API const char* ns_build_flags(void);

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

#ifdef __cplusplus
}
#endif

#endif
