// The effect plugin: a thin JUCE shell over the core's effect chain (core/effect/chain.h).
//
// The chain (gains, model, DC blocker, latency-aligned dry path, mix, non-finite guard) and its
// parameter table (core/effect/params.h) are the core's; this shell maps JUCE parameters onto the
// table, hands models loaded off the audio thread to the audio thread through an atomic pointer,
// reports latency and keeps the plugin state. The audio thread never allocates, locks or touches
// files.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>
#include <atomic>
#include <memory>

#include "effect/chain.h"
#include "neuralsynth_core.h"

extern const char* const nsPluginName;
extern const char* const nsPluginVersion;
extern const char* const nsModelFileName;
extern const unsigned char nsModelData[];
extern const std::size_t nsModelSize;

class NeuralEffectProcessor : public juce::AudioProcessor, private juce::Timer {
public:
    static constexpr int kMaxChannels = nscore::effect::kMaxChannels;
    static constexpr int kMaxControls = nscore::effect::kMaxControls;

    NeuralEffectProcessor();
    ~NeuralEffectProcessor() override;

    const juce::String getName() const override { return nsPluginName; }
    bool isRuntimeLoader() const { return nsModelSize == 0; }

    void prepareToPlay(double sampleRate, int samplesPerBlock) override;
    void releaseResources() override {}
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    void processBlock(juce::AudioBuffer<float>&, juce::MidiBuffer&) override;
    void processBlockBypassed(juce::AudioBuffer<float>&, juce::MidiBuffer&) override;
    juce::AudioProcessorParameter* getBypassParameter() const override { return bypass_; }

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }
    bool acceptsMidi() const override { return false; }
    bool producesMidi() const override { return false; }
    double getTailLengthSeconds() const override;

    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return "Default"; }
    void changeProgramName(int, const juce::String&) override {}

    void getStateInformation(juce::MemoryBlock& destData) override;
    void setStateInformation(const void* data, int sizeInBytes) override;

    // Runtime loader: load a model file (message thread or any non-audio thread).
    // On failure the previous model keeps playing and the error is kept in the state.
    juce::String loadModelFile(const juce::File& file);
    juce::String getLastError() const;
    juce::String getModelDescription() const;
    juce::String getModelPath() const;

    juce::AudioProcessorValueTreeState params;

private:
    using Slot = nscore::effect::ModelSlot;

    static juce::AudioProcessorValueTreeState::ParameterLayout makeLayout();
    void timerCallback() override;
    void adoptPending() noexcept;
    void pushParameters() noexcept;
    std::unique_ptr<Slot> makeSlot(const std::string& text, const std::string& name, std::string& error) const;

    nscore::effect::Chain chain_;
    Slot* active_ = nullptr;                 // owned by the audio thread
    std::atomic<Slot*> pending_{nullptr};    // handed over by the loader
    std::atomic<Slot*> retired_{nullptr};    // handed back for deletion off the audio thread
    std::atomic<int> slotLatency_{0};

    std::array<std::atomic<float>*, nscore::effect::kNumParams> values_{};  // APVTS raw values, by table index
    juce::AudioParameterBool* bypass_ = nullptr;

    double sampleRate_ = 48000.0;
    int maxBlock_ = 512;

    mutable juce::CriticalSection infoLock_;  // guards the strings below (never taken on the audio thread)
    juce::String lastError_, modelPath_, description_;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(NeuralEffectProcessor)
};
