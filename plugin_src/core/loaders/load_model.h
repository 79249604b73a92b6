// Entry points: load a model from a file or from JSON text, detecting the format.
// Loading allocates and may throw ModelError; it never runs on the audio thread.
#pragma once

#include <memory>
#include <new>

#include "nam_loader.h"
#include "rtneural_loader.h"

namespace nscore {

inline std::unique_ptr<Model> loadModelFromText(const std::string& text, const std::string& name) {
    try {
        const json root = parseJsonText(text, name);
        JsonReader r(name);
        if (!root.is_object()) r.expected("", "a JSON object at the top level", root);
        if (root.contains("architecture")) return nam::load(r, root);
        if (root.contains("layers") || root.contains("in_shape")) return rtneural::load(r, root);
        r.fail(ErrorCode::Format, "",
               "not a NAM (.nam) or RTNeural JSON model: expected an \"architecture\" field (NAM) or "
               "\"in_shape\" and \"layers\" fields (RTNeural)");
    } catch (const ModelError&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw ModelError(ErrorCode::Memory, name + ": out of memory while loading");
    } catch (const std::exception& e) {
        throw ModelError(ErrorCode::Format, name + ": " + e.what());
    }
}

inline std::unique_ptr<Model> loadModelFile(const std::string& path) {
    return loadModelFromText(readTextFile(path), path);
}

// Non-throwing form for hosts that do not use exceptions across their boundary.
inline std::unique_ptr<Model> loadModelFile(const std::string& path, std::string& error, ErrorCode* code = nullptr) {
    try {
        error.clear();
        if (code) *code = ErrorCode::Ok;
        return loadModelFile(path);
    } catch (const ModelError& e) {
        error = e.what();
        if (code) *code = e.code;
    } catch (const std::bad_alloc&) {
        error = path + ": out of memory while loading";
        if (code) *code = ErrorCode::Memory;
    } catch (const std::exception& e) {
        error = path + ": " + e.what();
        if (code) *code = ErrorCode::Internal;
    }
    return nullptr;
}

}  // namespace nscore
