// The effect plugin: a thin JUCE shell over the neuralsynth core.
//
// Signal chain per channel (a mono model runs once per channel):
//   in * inputGain -> model (+ control inputs) -> DC blocker -> * outputGain, mixed with the dry input.
// The audio thread never allocates, locks or touches files: models are loaded
// and prepared off the audio thread and handed over through an atomic pointer.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>
#include <atomic>
#include <memory>

#include "RateBridge.h"
#include "dsp/dc_blocker.h"
#include "neuralsynth_core.h"

extern const char* const nsPluginName;
extern const char* const nsPluginVersion;
extern const char* const nsModelFileName;
extern const unsigned char nsModelData[];
extern const std::size_t nsModelSize;

class NeuralEffectProcessor : public juce::AudioProcessor, private juce::Timer {
public:
    static constexpr int kMaxChannels = 2;
    static constexpr int kMaxControls = 8;

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
    // Everything the audio thread needs for one model, built off the audio thread.
    struct Engine {
        std::array<std::unique_ptr<nscore::Model>, kMaxChannels> models;
        std::array<RateBridge, kMaxChannels> bridges;  // used when the host rate differs from the model's
        std::vector<std::vector<float>> modelControls;  // control inputs at the model rate
        std::string text;  // the model file's text
        std::string name;
        nscore::ModelInfo info;
        int numControls = 0;
        bool resampling = false;
        int latency = 0;
        bool build(const std::string& text, const std::string& name, std::string& error);
        // Allocates: prepares the models at their own rate and, if needed, the resamplers.
        bool prepare(double hostRate, int maxBlock, std::string& error);
    };

    static juce::AudioProcessorValueTreeState::ParameterLayout makeLayout();
    void timerCallback() override;
    void adoptPending() noexcept;
    void updateLatency();
    void delayInPlace(juce::AudioBuffer<float>& buffer, int nch, int n) noexcept;

    std::unique_ptr<Engine> makeEngine(const std::string& text, const std::string& name, std::string& error) const;

    Engine* active_ = nullptr;                 // owned by the audio thread
    std::atomic<Engine*> pending_{nullptr};    // handed over by the loader
    std::atomic<Engine*> retired_{nullptr};    // handed back for deletion off the audio thread

    std::array<nscore::DcBlocker, kMaxChannels> dc_;
    juce::SmoothedValue<float> inGain_, outGain_, mix_;
    std::array<juce::SmoothedValue<float>, kMaxControls> controls_;
    juce::AudioBuffer<float> wet_, dry_;
    // The dry path is delayed by the engine's latency so the mix stays aligned.
    static constexpr int kMaxLatency = 16384;
    std::array<std::vector<float>, kMaxChannels> dryDelay_;
    int dryPos_ = 0;
    std::atomic<int> engineLatency_{0};
    std::vector<std::vector<float>> controlBuf_;
    std::atomic<bool> nonFiniteReset_{false};

    std::atomic<float>* inGainDb_ = nullptr;
    std::atomic<float>* outGainDb_ = nullptr;
    std::atomic<float>* mixPct_ = nullptr;
    std::atomic<float>* dcOn_ = nullptr;
    std::array<std::atomic<float>*, kMaxControls> controlVals_{};
    juce::AudioParameterBool* bypass_ = nullptr;

    double sampleRate_ = 48000.0;
    int maxBlock_ = 512;

    mutable juce::CriticalSection infoLock_;  // guards the strings below (never taken on the audio thread)
    juce::String lastError_, modelPath_, description_;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(NeuralEffectProcessor)
};
