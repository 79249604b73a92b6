// The instrument plugin: a thin JUCE shell over the core's synth engine (core/synth).
//
// Parameters come from the core's table (names, units, ranges and the normalized mapping are
// the core's own functions), MIDI is handed to the engine at its exact sample, and the neural
// stage runs the model embedded at build time. The audio thread never allocates, locks or
// touches files.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>
#include <atomic>

#include "neuralsynth_core.h"
#include "synth/synth.h"

extern const char* const nsPluginName;
extern const char* const nsPluginVersion;
extern const char* const nsModelFileName;
extern const unsigned char nsModelData[];
extern const std::size_t nsModelSize;

class NeuralSynthProcessor : public juce::AudioProcessor {
public:
    NeuralSynthProcessor();

    const juce::String getName() const override { return nsPluginName; }

    void prepareToPlay(double sampleRate, int samplesPerBlock) override;
    void releaseResources() override {}
    void reset() override;
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    void processBlock(juce::AudioBuffer<float>&, juce::MidiBuffer&) override;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }
    bool acceptsMidi() const override { return true; }
    bool producesMidi() const override { return false; }
    double getTailLengthSeconds() const override;

    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return "Default"; }
    void changeProgramName(int, const juce::String&) override {}

    void getStateInformation(juce::MemoryBlock& destData) override;
    void setStateInformation(const void* data, int sizeInBytes) override;

    juce::String getModelDescription() const { return modelDescription_; }

    juce::AudioProcessorValueTreeState params;

private:
    static juce::AudioProcessorValueTreeState::ParameterLayout makeLayout();
    void pushParameters() noexcept;

    nscore::synth::SynthEngine engine_;
    // the parameters' own values (AudioParameterFloat::get()), not APVTS's raw atomics: those hold
    // from(to(from(n))), which can differ from the bridge's from(n) in the last bit
    std::array<juce::AudioParameterFloat*, nscore::synth::kNumParams> raw_{};
    juce::String modelDescription_;
    bool startOfPlayback_ = true;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(NeuralSynthProcessor)
};
