// Umbrella header of the neuralsynth inference core (header-only, C++17, Eigen 3.4).
#pragma once

#ifndef NEURALSYNTH_VERSION
#define NEURALSYNTH_VERSION "0.1.0"
#endif
#ifndef NEURALSYNTH_BUILD_FLAGS
#define NEURALSYNTH_BUILD_FLAGS "unknown"
#endif

#include "common.h"
#include "kernels.h"
#include "activations.h"
#include "layers/layer.h"
#include "layers/history.h"
#include "layers/dense.h"
#include "layers/conv1d.h"
#include "layers/elementwise.h"
#include "layers/gru.h"
#include "layers/lstm.h"
#include "models/model.h"
#include "models/sequential.h"
#include "models/wavenet.h"
#include "loaders/json_reader.h"
#include "loaders/nam_loader.h"
#include "loaders/rtneural_loader.h"
#include "loaders/load_model.h"
