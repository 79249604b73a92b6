// Umbrella header of the NeuralSynth instrument engine (part of the core; no JUCE, no Python).
#pragma once

#include "params.h"
#include "wavetable.h"
#include "envelope.h"
#include "svf.h"
#include "reverb.h"
#include "voice.h"
#include "engine.h"
