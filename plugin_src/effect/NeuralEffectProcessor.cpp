#include "NeuralEffectProcessor.h"

#include "NeuralEffectEditor.h"

namespace {

constexpr double kDefaultModelRate = 48000.0;

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

bool NeuralEffectProcessor::Engine::build(const std::string& t, const std::string& n, std::string& error) {
    text = t;
    name = n;
    try {
        for (auto& m : models) m = nscore::loadModelFromText(text, name);
        info = models[0]->info();
        if (info.numOutputs != 1) {
            error = name + ": the model has " + std::to_string(info.numOutputs) +
                    " outputs; an effect plugin needs a model with exactly one audio output";
            return false;
        }
        numControls = info.numInputs - 1;
        if (numControls > kMaxControls) {
            error = name + ": the model has " + std::to_string(numControls) + " control inputs; at most " +
                    std::to_string(kMaxControls) + " are supported";
            return false;
        }
        return true;
    } catch (const std::exception& e) {
        error = e.what();
        return false;
    }
}

bool NeuralEffectProcessor::Engine::prepare(double hostRate, int maxBlock, std::string& error) {
    const double modelRate = info.sampleRate;
    resampling = std::fabs(hostRate - modelRate) > 1e-6;
    const int modelBlock = resampling ? (int)std::ceil(maxBlock * modelRate / hostRate) + 256 : maxBlock;
    for (auto& m : models) m->prepare(modelRate, modelBlock);
    modelControls.assign((size_t)kMaxControls, std::vector<float>((size_t)modelBlock, 0.0f));
    latency = 0;
    if (resampling) {
        for (auto& b : bridges)
            if (!b.prepare(hostRate, modelRate, maxBlock, error)) return false;
        latency = bridges[0].latency();
        if (latency > kMaxLatency) {
            error = "resampling latency " + std::to_string(latency) + " exceeds the supported maximum";
            return false;
        }
    }
    return true;
}

juce::AudioProcessorValueTreeState::ParameterLayout NeuralEffectProcessor::makeLayout() {
    using namespace juce;
    AudioProcessorValueTreeState::ParameterLayout layout;
    auto db = [](float v, int) { return String(v, 1); };
    layout.add(std::make_unique<AudioParameterFloat>(ParameterID{"input_gain", 1}, "Input Gain",
                                                     NormalisableRange<float>(-24.0f, 24.0f, 0.01f), 0.0f,
                                                     AudioParameterFloatAttributes().withLabel("dB").withStringFromValueFunction(db)));
    layout.add(std::make_unique<AudioParameterFloat>(ParameterID{"output_gain", 1}, "Output Gain",
                                                     NormalisableRange<float>(-24.0f, 24.0f, 0.01f), 0.0f,
                                                     AudioParameterFloatAttributes().withLabel("dB").withStringFromValueFunction(db)));
    layout.add(std::make_unique<AudioParameterFloat>(ParameterID{"mix", 1}, "Mix", NormalisableRange<float>(0.0f, 100.0f, 0.01f),
                                                     100.0f, AudioParameterFloatAttributes().withLabel("%")));
    layout.add(std::make_unique<AudioParameterBool>(ParameterID{"dc_block", 1}, "DC Block", true));
    layout.add(std::make_unique<AudioParameterBool>(ParameterID{"bypass", 1}, "Bypass", false));
    const int nc = embeddedControlCount();
    for (int i = 0; i < nc; ++i)
        layout.add(std::make_unique<AudioParameterFloat>(ParameterID{"control_" + String(i + 1), 1}, "Control " + String(i + 1),
                                                         NormalisableRange<float>(0.0f, 1.0f, 0.0001f), 0.0f));
    return layout;
}

NeuralEffectProcessor::NeuralEffectProcessor()
    : AudioProcessor(BusesProperties()
                         .withInput("Input", juce::AudioChannelSet::stereo(), true)
                         .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      params(*this, nullptr, "NeuralSynthEffect", makeLayout()) {
    inGainDb_ = params.getRawParameterValue("input_gain");
    outGainDb_ = params.getRawParameterValue("output_gain");
    mixPct_ = params.getRawParameterValue("mix");
    dcOn_ = params.getRawParameterValue("dc_block");
    bypass_ = dynamic_cast<juce::AudioParameterBool*>(params.getParameter("bypass"));
    for (int i = 0; i < kMaxControls; ++i) controlVals_[i] = params.getRawParameterValue("control_" + juce::String(i + 1));

    if (!isRuntimeLoader()) {
        std::string error;
        auto e = makeEngine(std::string((const char*)nsModelData, nsModelSize), nsModelFileName, error);
        if (e) {
            active_ = e.release();
            description_ = juce::String(active_->name) + " (" + active_->info.architecture + ", " +
                           juce::String(active_->info.numWeights) + " weights)";
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

std::unique_ptr<NeuralEffectProcessor::Engine> NeuralEffectProcessor::makeEngine(const std::string& text,
                                                                               const std::string& name,
                                                                               std::string& error) const {
    auto e = std::make_unique<Engine>();
    if (!e->build(text, name, error)) return nullptr;
    try {
        if (!e->prepare(sampleRate_, std::max(1, maxBlock_), error)) return nullptr;
    } catch (const std::exception& ex) {
        error = ex.what();
        return nullptr;
    }
    return e;
}

bool NeuralEffectProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto& in = layouts.getMainInputChannelSet();
    const auto& out = layouts.getMainOutputChannelSet();
    if (in != out) return false;
    return out == juce::AudioChannelSet::mono() || out == juce::AudioChannelSet::stereo();
}

void NeuralEffectProcessor::prepareToPlay(double sampleRate, int samplesPerBlock) {
    sampleRate_ = sampleRate;
    maxBlock_ = std::max(1, samplesPerBlock);
    // Not concurrent with processBlock: take over any pending engine and free retired ones here.
    if (Engine* p = pending_.exchange(nullptr)) {
        delete active_;
        active_ = p;
    }
    delete retired_.exchange(nullptr);
    if (active_) {
        std::string error;
        if (!active_->prepare(sampleRate, maxBlock_, error)) {
            const juce::ScopedLock sl(infoLock_);
            lastError_ = error;
            delete active_;
            active_ = nullptr;
        }
    }
    for (auto& d : dryDelay_) d.assign((size_t)(kMaxLatency + maxBlock_ + 1), 0.0f);
    dryPos_ = 0;
    for (auto& d : dc_) d.prepare(sampleRate);
    const double ramp = 0.02;
    inGain_.reset(sampleRate, ramp);
    outGain_.reset(sampleRate, ramp);
    mix_.reset(sampleRate, ramp);
    inGain_.setCurrentAndTargetValue(juce::Decibels::decibelsToGain(inGainDb_->load()));
    outGain_.setCurrentAndTargetValue(juce::Decibels::decibelsToGain(outGainDb_->load()));
    mix_.setCurrentAndTargetValue(mixPct_->load() * 0.01f);
    for (int i = 0; i < kMaxControls; ++i) {
        controls_[i].reset(sampleRate, ramp);
        controls_[i].setCurrentAndTargetValue(controlVals_[i] ? controlVals_[i]->load() : 0.0f);
    }
    wet_.setSize(kMaxChannels, maxBlock_);
    dry_.setSize(kMaxChannels, maxBlock_);
    controlBuf_.assign(kMaxControls, std::vector<float>((size_t)maxBlock_, 0.0f));
    updateLatency();
}

void NeuralEffectProcessor::updateLatency() {
    const int latency = active_ ? active_->latency : 0;
    engineLatency_.store(latency);
    setLatencySamples(latency);
}

double NeuralEffectProcessor::getTailLengthSeconds() const {
    // The model's receptive field plus the DC blocker's settling (to below -120 dB).
    double seconds = 0.5 + engineLatency_.load() / sampleRate_;
    if (active_ && active_->info.receptiveField > 0) seconds += active_->info.receptiveField / active_->info.sampleRate;
    return seconds;
}

void NeuralEffectProcessor::adoptPending() noexcept {
    if (pending_.load(std::memory_order_acquire) == nullptr) return;
    if (retired_.load(std::memory_order_acquire) != nullptr) return;  // previous hand-back not collected yet
    Engine* p = pending_.exchange(nullptr, std::memory_order_acq_rel);
    if (!p) return;
    retired_.store(active_, std::memory_order_release);
    active_ = p;
    for (auto& m : active_->models) m->reset();
    for (auto& d : dc_) d.reset();
    engineLatency_.store(active_->latency);
}

void NeuralEffectProcessor::timerCallback() {
    delete retired_.exchange(nullptr);
    if (engineLatency_.load() != getLatencySamples()) setLatencySamples(engineLatency_.load());
    if (nonFiniteReset_.exchange(false)) {
        const juce::ScopedLock sl(infoLock_);
        lastError_ = "the model produced a non-finite value; its state was reset";
    }
}

void NeuralEffectProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    juce::ScopedNoDenormals noDenormals;
    adoptPending();
    const int n = buffer.getNumSamples();
    const int nch = std::min(buffer.getNumChannels(), kMaxChannels);
    for (int c = nch; c < buffer.getNumChannels(); ++c) buffer.clear(c, 0, n);
    if (n == 0) return;
    // Non-finite input never reaches the model or the dry path.
    for (int c = 0; c < nch; ++c) {
        float* d = buffer.getWritePointer(c);
        for (int i = 0; i < n; ++i)
            if (!std::isfinite(d[i])) d[i] = 0.0f;
    }
    // The host may bypass through our parameter (VST3 / LV2 call processBlock with it set).
    if (bypass_ != nullptr && bypass_->get()) {  // the (sanitised) input, delayed by the latency we report
        delayInPlace(buffer, nch, n);
        return;
    }

    inGain_.setTargetValue(juce::Decibels::decibelsToGain(inGainDb_->load()));
    outGain_.setTargetValue(juce::Decibels::decibelsToGain(outGainDb_->load()));
    mix_.setTargetValue(mixPct_->load() * 0.01f);
    const bool dcOn = dcOn_->load() > 0.5f;
    const int numControls = active_ ? active_->numControls : 0;
    for (int i = 0; i < numControls; ++i)
        controls_[i].setTargetValue(controlVals_[i] ? controlVals_[i]->load() : 0.0f);

    for (int off = 0; off < n; off += maxBlock_) {
        const int len = std::min(maxBlock_, n - off);
        // Per-sample smoothed values, identical for every channel.
        for (int c = 0; c < nch; ++c) dry_.copyFrom(c, 0, buffer, c, off, len);
        // Input gain (smoothed) into the wet buffer.
        for (int i = 0; i < len; ++i) {
            const float g = inGain_.getNextValue();
            for (int c = 0; c < nch; ++c) wet_.setSample(c, i, dry_.getSample(c, i) * g);
        }
        for (int k = 0; k < numControls; ++k)
            for (int i = 0; i < len; ++i) controlBuf_[(size_t)k][(size_t)i] = controls_[k].getNextValue();

        for (int c = 0; c < nch; ++c) {
            float* w = wet_.getWritePointer(c);
            if (active_ && !active_->resampling) {
                const float* ins[1 + kMaxControls];
                ins[0] = w;
                for (int k = 0; k < numControls; ++k) ins[1 + k] = controlBuf_[(size_t)k].data();
                float* outs[1] = {w};
                active_->models[(size_t)c]->process(ins, outs, len);  // in place is safe: inputs are copied per block
            } else if (active_) {
                Engine& e = *active_;
                nscore::Model& model = *e.models[(size_t)c];
                e.bridges[(size_t)c].process(w, w, len, [&](const float* in, float* out, int m) {
                    const float* ins[1 + kMaxControls];
                    ins[0] = in;
                    for (int k = 0; k < numControls; ++k) {  // controls held at this block's last value
                        std::fill(e.modelControls[(size_t)k].begin(), e.modelControls[(size_t)k].begin() + m,
                                  controlBuf_[(size_t)k][(size_t)(len - 1)]);
                        ins[1 + k] = e.modelControls[(size_t)k].data();
                    }
                    float* outs[1] = {out};
                    model.process(ins, outs, m);
                });
            } else {
                juce::FloatVectorOperations::clear(w, len);
            }
            if (dcOn) dc_[(size_t)c].process(w, len);
        }
        // NaN / Inf never leave the plugin.
        bool finite = true;
        for (int c = 0; c < nch && finite; ++c) {
            const float* w = wet_.getReadPointer(c);
            for (int i = 0; i < len; ++i)
                if (!std::isfinite(w[i])) {
                    finite = false;
                    break;
                }
        }
        if (!finite) {
            for (int c = 0; c < nch; ++c) wet_.clear(c, 0, len);
            if (active_)
                for (auto& m : active_->models) m->reset();
            for (auto& d : dc_) d.reset();
            nonFiniteReset_.store(true);
        }
        delayInPlace(dry_, nch, len);  // the dry path, delayed by the wet path's latency
        for (int i = 0; i < len; ++i) {
            const float go = outGain_.getNextValue();
            const float m = mix_.getNextValue();
            for (int c = 0; c < nch; ++c)
                buffer.setSample(c, off + i, wet_.getSample(c, i) * go * m + dry_.getSample(c, i) * (1.0f - m));
        }
    }
}

void NeuralEffectProcessor::delayInPlace(juce::AudioBuffer<float>& buffer, int nch, int n) noexcept {
    const int latency = active_ ? active_->latency : 0;
    const int cap = (int)dryDelay_[0].size();
    if (cap == 0) return;
    for (int i = 0; i < n; ++i) {
        const int w = (dryPos_ + i) % cap, r = (dryPos_ + i - latency + cap) % cap;
        for (int c = 0; c < nch; ++c) {
            dryDelay_[(size_t)c][(size_t)w] = buffer.getSample(c, i);
            buffer.setSample(c, i, dryDelay_[(size_t)c][(size_t)r]);
        }
    }
    dryPos_ = (dryPos_ + n) % cap;
}

void NeuralEffectProcessor::processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    // The dry signal (sanitised), delayed by the reported latency; the model's state is kept.
    const int nch = std::min(buffer.getNumChannels(), kMaxChannels);
    for (int c = 0; c < buffer.getNumChannels(); ++c) {
        float* d = buffer.getWritePointer(c);
        for (int i = 0; i < buffer.getNumSamples(); ++i)
            if (!std::isfinite(d[i])) d[i] = 0.0f;
    }
    delayInPlace(buffer, nch, buffer.getNumSamples());
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
        auto e = makeEngine(text, file.getFullPathName().toStdString(), err);
        if (!e) {
            error = juce::String(err);
        } else {
            const juce::String desc = file.getFileName() + " (" + juce::String(e->info.architecture) + ", " +
                                      juce::String(e->info.numWeights) + " weights)";
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
