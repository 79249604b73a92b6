#include "NeuralEffectEditor.h"

NeuralEffectEditor::NeuralEffectEditor(NeuralEffectProcessor& p) : AudioProcessorEditor(p), proc_(p), generic_(p) {
    title_.setText(p.getName(), juce::dontSendNotification);
    title_.setFont(juce::Font(18.0f, juce::Font::bold));
    addAndMakeVisible(title_);
    addAndMakeVisible(model_);
    error_.setColour(juce::Label::textColourId, juce::Colours::orangered);
    addAndMakeVisible(error_);
    if (p.isRuntimeLoader()) {
        load_.onClick = [this] { chooseModel(); };
        addAndMakeVisible(load_);
    }
    addAndMakeVisible(generic_);
    setSize(460, 110 + generic_.getHeight());
    timerCallback();
    startTimerHz(4);
}

void NeuralEffectEditor::paint(juce::Graphics& g) { g.fillAll(getLookAndFeel().findColour(juce::ResizableWindow::backgroundColourId)); }

void NeuralEffectEditor::resized() {
    auto r = getLocalBounds().reduced(8);
    auto top = r.removeFromTop(28);
    if (proc_.isRuntimeLoader()) load_.setBounds(top.removeFromRight(120));
    title_.setBounds(top);
    model_.setBounds(r.removeFromTop(24));
    error_.setBounds(r.removeFromTop(24));
    generic_.setBounds(r);
}

void NeuralEffectEditor::timerCallback() {
    const auto desc = proc_.getModelDescription();
    model_.setText(desc.isEmpty() ? "No model loaded" : "Model: " + desc, juce::dontSendNotification);
    error_.setText(proc_.getLastError(), juce::dontSendNotification);
}

void NeuralEffectEditor::chooseModel() {
    chooser_ = std::make_unique<juce::FileChooser>("Load a model", juce::File(), "*.nam;*.json");
    chooser_->launchAsync(juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                          [this](const juce::FileChooser& fc) {
                              const auto f = fc.getResult();
                              if (f.existsAsFile()) proc_.loadModelFile(f);
                              timerCallback();
                          });
}
