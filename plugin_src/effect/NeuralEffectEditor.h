// Editor: the model's name (and, for a runtime-loader build, a button to load a
// model file and the last error), above JUCE's generic parameter controls.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include "NeuralEffectProcessor.h"

class NeuralEffectEditor : public juce::AudioProcessorEditor, private juce::Timer {
public:
    explicit NeuralEffectEditor(NeuralEffectProcessor&);
    void resized() override;
    void paint(juce::Graphics&) override;

private:
    void timerCallback() override;
    void chooseModel();

    NeuralEffectProcessor& proc_;
    juce::Label title_, model_, error_;
    juce::TextButton load_{"Load model..."};
    juce::GenericAudioProcessorEditor generic_;
    std::unique_ptr<juce::FileChooser> chooser_;
};
