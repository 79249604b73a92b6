#include "NeuralSynthProcessor.h"

#include <string>

namespace syn = nscore::synth;

juce::AudioProcessorValueTreeState::ParameterLayout NeuralSynthProcessor::makeLayout() {
    juce::AudioProcessorValueTreeState::ParameterLayout layout;
    for (int i = 0; i < syn::kNumParams; ++i) {
        const syn::ParamSpec& p = syn::paramSpec(i);
        // The core's own mapping, so a host's normalized value gives the engine exactly the
        // value the bridge computes from the same normalized value.
        juce::NormalisableRange<float> range(
            p.min, p.max,
            [i](float, float, float n) { return syn::paramFromNormalized(i, n); },
            [i](float, float, float v) { return syn::paramToNormalized(i, v); },
            [i](float, float, float v) { return syn::snapParam(i, v); });
        if (p.scale == syn::Scale::Int || p.scale == syn::Scale::Choice) range.interval = 1.0f;
        juce::StringArray choices;
        if (p.scale == syn::Scale::Choice) choices = juce::StringArray::fromTokens(p.choices, "|", "");
        const juce::String unit(p.unit);
        auto toText = [choices, unit, scale = p.scale](float v, int) -> juce::String {
            if (scale == syn::Scale::Choice) return choices[juce::jlimit(0, choices.size() - 1, (int)std::lround(v))];
            if (scale == syn::Scale::Int) return juce::String((int)std::lround(v));
            return juce::String(v, std::abs(v) < 10.0f ? 3 : 1);
        };
        auto fromText = [choices, scale = p.scale](const juce::String& t) -> float {
            if (scale == syn::Scale::Choice) {
                const int idx = choices.indexOf(t.trim(), true);
                return idx >= 0 ? (float)idx : t.getFloatValue();
            }
            return t.getFloatValue();
        };
        layout.add(std::make_unique<juce::AudioParameterFloat>(
            juce::ParameterID{p.id, 1}, p.name, range, syn::paramDefault(i),
            juce::AudioParameterFloatAttributes().withLabel(unit).withStringFromValueFunction(toText)
                .withValueFromStringFunction(fromText)));
    }
    return layout;
}

NeuralSynthProcessor::NeuralSynthProcessor()
    : AudioProcessor(BusesProperties().withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      params(*this, nullptr, "NeuralSynthInstrument", makeLayout()) {
    for (int i = 0; i < syn::kNumParams; ++i)
        raw_[(size_t)i] = dynamic_cast<juce::AudioParameterFloat*>(params.getParameter(syn::paramSpec(i).id));
    if (nsModelSize > 0) {
        // The embedded model was checked by `neuralsynth build`; a failure here leaves the
        // neural stage off rather than taking the host down.
        try {
            auto model = nscore::loadModelFromText(
                std::string(reinterpret_cast<const char*>(nsModelData), nsModelSize), nsModelFileName);
            modelDescription_ = juce::String(nsModelFileName) + " (" + model->info().architecture + ")";
            engine_.setModel(std::move(model));
        } catch (const std::exception& e) {
            modelDescription_ = juce::String("model failed to load: ") + e.what();
        }
    } else {
        modelDescription_ = "no model (neural stage off)";
    }
}

bool NeuralSynthProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto& out = layouts.getMainOutputChannelSet();
    return layouts.getMainInputChannelSet().isDisabled() &&
           (out == juce::AudioChannelSet::mono() || out == juce::AudioChannelSet::stereo());
}

void NeuralSynthProcessor::pushParameters() noexcept {
    for (int i = 0; i < syn::kNumParams; ++i) engine_.setParam(i, raw_[(size_t)i]->get());
}

void NeuralSynthProcessor::prepareToPlay(double sampleRate, int samplesPerBlock) {
    pushParameters();  // prepare() ends in reset(), which starts the smoothers at these values
    try {
        engine_.prepare(sampleRate, juce::jmax(1, samplesPerBlock));
        startOfPlayback_ = true;
    } catch (const std::exception&) {
        // an absurd sample rate: the engine stays unprepared and renders silence
    }
}

void NeuralSynthProcessor::reset() {
    // Hosts call this with processing suspended or on the audio thread: allocation-free.
    pushParameters();
    engine_.reset();
}

void NeuralSynthProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) {
    juce::ScopedNoDenormals noDenormals;
    const int n = buffer.getNumSamples();
    const int channels = buffer.getNumChannels();
    if (channels == 0 || n == 0) return;
    pushParameters();
    if (startOfPlayback_) {  // values that arrived with the first block (LV2 ports) apply at once
        engine_.snapSmoothing();
        startOfPlayback_ = false;
    }
    float* left = buffer.getWritePointer(0);
    float* right = channels > 1 ? buffer.getWritePointer(1) : nullptr;
    // mono output: render the right channel into a scratch-free place by summing afterwards
    float monoRight[256];
    int pos = 0;
    auto render = [&](int end) {
        while (pos < end) {
            const int m = right ? end - pos : juce::jmin(end - pos, 256);
            engine_.process(nullptr, 0, left + pos, right ? right + pos : monoRight, m);
            if (!right)
                for (int t = 0; t < m; ++t) left[pos + t] = 0.5f * (left[pos + t] + monoRight[t]);
            pos += m;
        }
    };
    for (const auto meta : midi) {
        const int at = juce::jlimit(0, n, meta.samplePosition);
        render(at);
        const juce::uint8* raw = meta.data;  // not meta.getMessage(): a MidiMessage of SysEx allocates
        const int size = meta.numBytes;
        if (size >= 1 && size <= 3) {
            syn::MidiEvent ev{0, raw[0], size > 1 ? raw[1] : (juce::uint8)0, size > 2 ? raw[2] : (juce::uint8)0, 0};
            engine_.handleEvent(ev);
        }
    }
    render(n);
    for (int ch = 2; ch < channels; ++ch) buffer.clear(ch, 0, n);
}

void NeuralSynthProcessor::getStateInformation(juce::MemoryBlock& destData) {
    auto state = params.copyState();
    state.setProperty("model", modelDescription_, nullptr);
    state.setProperty("version", juce::String(nsPluginVersion), nullptr);
    if (auto xml = state.createXml()) copyXmlToBinary(*xml, destData);
}

void NeuralSynthProcessor::setStateInformation(const void* data, int sizeInBytes) {
    auto xml = getXmlFromBinary(data, sizeInBytes);
    if (!xml || !xml->hasTagName(params.state.getType())) return;
    params.replaceState(juce::ValueTree::fromXml(*xml));
}

double NeuralSynthProcessor::getTailLengthSeconds() const {
    // amp release (to silence) plus the reverb decaying 120 dB (two RT60s) when it is in the mix
    const float release = raw_[syn::kAmpRelease]->get() * 1e-3f;
    const float size = raw_[syn::kReverbSize]->get();
    const float reverb = raw_[syn::kReverbMix]->get() > 0.0f ? 2.0f * syn::Reverb::rt60(size) : 0.0f;
    return (double)(release + reverb);
}

juce::AudioProcessorEditor* NeuralSynthProcessor::createEditor() {
    return new juce::GenericAudioProcessorEditor(*this);
}

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new NeuralSynthProcessor(); }
