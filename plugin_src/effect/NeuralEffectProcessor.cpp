#include "NeuralEffectProcessor.h"

#include "NeuralEffectEditor.h"

namespace {

// The embedded model's number of control inputs decides the parameter layout;
// a runtime-loader plugin offers kMaxControls generic controls.
int embeddedControlCount() {
    if (nsModelSize == 0) return NeuralEffectProcessor::kMaxControls;
    try {
        auto m = nscore::loadModelFromText(std::string((const char*)nsModelData, nsModelSize), nsModelFileName);
        return std::min(NeuralEffectProcessor::kMaxControls, m->numInputs() - 1);
    } catch (...) {
        return 0;
    }
}

}  // namespace

juce::AudioProcessorValueTreeState::ParameterLayout NeuralEffectProcessor::makeLayout() {
    using namespace juce;
    namespace fx = nscore::effect;
    AudioProcessorValueTreeState::ParameterLayout layout;
    const int numParams = fx::kControl1 + embeddedControlCount();
    for (int i = 0; i < numParams; ++i) {
        const fx::ParamSpec& p = fx::paramSpec(i);
        if (p.kind == fx::Kind::Toggle) {
            layout.add(std::make_unique<AudioParameterBool>(ParameterID{p.id, 1}, p.name, p.def > 0.5f));
            continue;
        }
        auto attributes = AudioParameterFloatAttributes().withLabel(p.unit);
        if (String(p.unit) == "dB") attributes = attributes.withStringFromValueFunction([](float v, int) { return String(v, 1); });
        layout.add(std::make_unique<AudioParameterFloat>(ParameterID{p.id, 1}, p.name,
                                                         NormalisableRange<float>(p.min, p.max, p.step), p.def, attributes));
    }
    return layout;
}

NeuralEffectProcessor::NeuralEffectProcessor()
    : AudioProcessor(BusesProperties()
                         .withInput("Input", juce::AudioChannelSet::stereo(), true)
                         .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      params(*this, nullptr, "NeuralSynthEffect", makeLayout()) {
    for (int i = 0; i < nscore::effect::kNumParams; ++i)
        values_[(size_t)i] = params.getRawParameterValue(nscore::effect::paramSpec(i).id);  // null: not in the layout
    bypass_ = dynamic_cast<juce::AudioParameterBool*>(params.getParameter("bypass"));

    if (!isRuntimeLoader()) {
        std::string error;
        auto slot = makeSlot(std::string((const char*)nsModelData, nsModelSize), nsModelFileName, error);
        if (slot) {
            active_ = slot.release();
            description_ = juce::String(active_->name()) + " (" + active_->info().architecture + ", " +
                           juce::String(active_->info().numWeights) + " weights)";
        } else {
            lastError_ = error;  // cannot happen for a model checked at build time; reported, never thrown
        }
    }
    startTimerHz(10);
}

NeuralEffectProcessor::~NeuralEffectProcessor() {
    stopTimer();
    delete pending_.exchange(nullptr);
    delete retired_.exchange(nullptr);
    delete active_;
}

std::unique_ptr<NeuralEffectProcessor::Slot> NeuralEffectProcessor::makeSlot(const std::string& text,
                                                                           const std::string& name,
                                                                           std::string& error) const {
    try {
        auto slot = std::make_unique<Slot>(text, name);
        slot->prepare(sampleRate_, std::max(1, maxBlock_));
        return slot;
    } catch (const std::exception& e) {
        error = e.what();
        return nullptr;
    }
}

bool NeuralEffectProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto& in = layouts.getMainInputChannelSet();
    const auto& out = layouts.getMainOutputChannelSet();
    if (in != out) return false;
    return out == juce::AudioChannelSet::mono() || out == juce::AudioChannelSet::stereo();
}

void NeuralEffectProcessor::pushParameters() noexcept {
    for (int i = 0; i < nscore::effect::kNumParams; ++i)
        if (values_[(size_t)i] != nullptr) chain_.setParam(i, values_[(size_t)i]->load());
}

void NeuralEffectProcessor::prepareToPlay(double sampleRate, int samplesPerBlock) {
    sampleRate_ = sampleRate;
    maxBlock_ = std::max(1, samplesPerBlock);
    // Not concurrent with processBlock: take over any pending model and free retired ones here.
    if (Slot* p = pending_.exchange(nullptr)) {
        delete active_;
        active_ = p;
    }
    delete retired_.exchange(nullptr);
    if (active_) {
        try {
            active_->prepare(sampleRate, maxBlock_);
        } catch (const std::exception& e) {
            const juce::ScopedLock sl(infoLock_);
            lastError_ = e.what();
            delete active_;
            active_ = nullptr;
        }
    }
    pushParameters();
    chain_.prepare(sampleRate, maxBlock_);
    const int latency = active_ ? active_->latency() : 0;
    slotLatency_.store(latency);
    setLatencySamples(latency);
}

double NeuralEffectProcessor::getTailLengthSeconds() const { return chain_.tailSeconds(active_); }

void NeuralEffectProcessor::adoptPending() noexcept {
    if (pending_.load(std::memory_order_acquire) == nullptr) return;
    if (retired_.load(std::memory_order_acquire) != nullptr) return;  // previous hand-back not collected yet
    Slot* p = pending_.exchange(nullptr, std::memory_order_acq_rel);
    if (!p) return;
    retired_.store(active_, std::memory_order_release);
    active_ = p;
    chain_.restart(active_);
    slotLatency_.store(active_->latency());
}

void NeuralEffectProcessor::timerCallback() {
    delete retired_.exchange(nullptr);
    if (slotLatency_.load() != getLatencySamples()) setLatencySamples(slotLatency_.load());
    if (chain_.takeNonFiniteReset()) {
        const juce::ScopedLock sl(infoLock_);
        lastError_ = "the model produced a non-finite value; its state was reset";
    }
}

void NeuralEffectProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    juce::ScopedNoDenormals noDenormals;
    adoptPending();
    pushParameters();
    chain_.process(active_, buffer.getArrayOfWritePointers(), buffer.getNumChannels(), buffer.getNumSamples());
}

void NeuralEffectProcessor::processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    chain_.processBypassed(active_, buffer.getArrayOfWritePointers(), buffer.getNumChannels(), buffer.getNumSamples());
}

juce::AudioProcessorEditor* NeuralEffectProcessor::createEditor() { return new NeuralEffectEditor(*this); }

juce::String NeuralEffectProcessor::loadModelFile(const juce::File& file) {
    juce::String error;
    if (!isRuntimeLoader()) {
        error = "this plugin embeds its model; only a runtime-loader build loads model files";
    } else if (!file.existsAsFile()) {
        error = file.getFullPathName() + ": no such model file";
    } else {
        std::string err;
        const auto text = file.loadFileAsString().toStdString();
        auto e = makeSlot(text, file.getFullPathName().toStdString(), err);
        if (!e) {
            error = juce::String(err);
        } else {
            const juce::String desc = file.getFileName() + " (" + juce::String(e->info().architecture) + ", " +
                                      juce::String(e->info().numWeights) + " weights)";
            delete pending_.exchange(e.release());
            const juce::ScopedLock sl(infoLock_);
            modelPath_ = file.getFullPathName();
            description_ = desc;
            lastError_.clear();
            return {};
        }
    }
    const juce::ScopedLock sl(infoLock_);
    lastError_ = error;
    return error;
}

juce::String NeuralEffectProcessor::getLastError() const {
    const juce::ScopedLock sl(infoLock_);
    return lastError_;
}
juce::String NeuralEffectProcessor::getModelDescription() const {
    const juce::ScopedLock sl(infoLock_);
    return description_;
}
juce::String NeuralEffectProcessor::getModelPath() const {
    const juce::ScopedLock sl(infoLock_);
    return modelPath_;
}

void NeuralEffectProcessor::getStateInformation(juce::MemoryBlock& destData) {
    auto state = params.copyState();
    {
        const juce::ScopedLock sl(infoLock_);
        state.setProperty("modelPath", modelPath_, nullptr);
        state.setProperty("lastError", lastError_, nullptr);
        state.setProperty("model", description_, nullptr);
    }
    if (auto xml = state.createXml()) copyXmlToBinary(*xml, destData);
}

void NeuralEffectProcessor::setStateInformation(const void* data, int sizeInBytes) {
    auto xml = getXmlFromBinary(data, sizeInBytes);
    if (!xml || !xml->hasTagName(params.state.getType())) return;
    auto state = juce::ValueTree::fromXml(*xml);
    const juce::String path = state.getProperty("modelPath").toString();
    params.replaceState(state);
    if (isRuntimeLoader() && path.isNotEmpty() && path != getModelPath()) loadModelFile(juce::File(path));
}

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new NeuralEffectProcessor(); }
