// Strict, error-naming access to a parsed JSON model file.
// Every failure throws ModelError with "<file>: <field path>: <what was expected>, found <what>".
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../common.h"

namespace nscore {

using json = nlohmann::json;

inline std::string describeJson(const json& j) {
    switch (j.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return j.get<bool>() ? "true" : "false";
        case json::value_t::string: {
            std::string s = j.get<std::string>();
            if (s.size() > 40) s = s.substr(0, 40) + "...";
            return "the string \"" + s + "\"";
        }
        case json::value_t::array: return "an array of " + std::to_string(j.size()) + " elements";
        case json::value_t::object: return "an object";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: {
            std::ostringstream o;
            o << j.get<double>();
            return o.str();
        }
        default: return "an unsupported value";
    }
}

class JsonReader {
public:
    explicit JsonReader(std::string file) : file_(std::move(file)) {}
    const std::string& file() const { return file_; }

    [[noreturn]] void fail(ErrorCode code, const std::string& path, const std::string& msg) const {
        throw ModelError(code, file_ + ": " + (path.empty() ? "" : path + ": ") + msg);
    }
    [[noreturn]] void expected(const std::string& path, const std::string& what, const json& found) const {
        fail(ErrorCode::Format, path, "expected " + what + ", found " + describeJson(found));
    }

    const json& field(const json& obj, const std::string& key, const std::string& path) const {
        if (!obj.is_object()) expected(path, "an object", obj);
        auto it = obj.find(key);
        if (it == obj.end()) fail(ErrorCode::Format, join(path, key), "missing (required field)");
        return *it;
    }
    const json* optional(const json& obj, const std::string& key) const {
        if (!obj.is_object()) return nullptr;
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return nullptr;
        return &*it;
    }
    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }
    static std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

    long long integer(const json& j, const std::string& path, long long lo, long long hi) const {
        double v;
        if (j.is_number_integer() || j.is_number_unsigned()) {
            if (j.is_number_unsigned() && j.get<unsigned long long>() > (unsigned long long)hi)
                fail(ErrorCode::Limit, path, "expected an integer in " + range(lo, hi) + ", found " + describeJson(j));
            const long long x = j.is_number_unsigned() ? (long long)j.get<unsigned long long>() : j.get<long long>();
            if (x < lo || x > hi)
                fail(x > hi ? ErrorCode::Limit : ErrorCode::Format, path,
                     "expected an integer in " + range(lo, hi) + ", found " + std::to_string(x));
            return x;
        }
        if (j.is_number_float()) {
            v = j.get<double>();
            if (std::isfinite(v) && v == std::floor(v)) {
                if (v < (double)lo || v > (double)hi)
                    fail(v > (double)hi ? ErrorCode::Limit : ErrorCode::Format, path,
                         "expected an integer in " + range(lo, hi) + ", found " + describeJson(j));
                return (long long)v;
            }
        }
        expected(path, "an integer in " + range(lo, hi), j);
    }
    bool boolean(const json& j, const std::string& path) const {
        if (!j.is_boolean()) expected(path, "true or false", j);
        return j.get<bool>();
    }
    std::string string(const json& j, const std::string& path) const {
        if (!j.is_string()) expected(path, "a string", j);
        return j.get<std::string>();
    }
    double number(const json& j, const std::string& path) const {
        if (j.is_null()) fail(ErrorCode::Format, path, "is NaN (values must be finite numbers)");
        if (!j.is_number()) expected(path, "a number", j);
        const double v = j.get<double>();
        if (!std::isfinite(v)) fail(ErrorCode::Format, path, "is " + std::string(v > 0 ? "+inf" : "-inf") +
                                                                 " (values must be finite numbers)");
        return v;
    }
    const json& array(const json& j, const std::string& path) const {
        if (!j.is_array()) expected(path, "an array", j);
        return j;
    }
    const json& arrayOfSize(const json& j, const std::string& path, size_t n) const {
        array(j, path);
        if (j.size() != n)
            fail(ErrorCode::Format, path, "expected " + std::to_string(n) + " values, found " + std::to_string(j.size()));
        return j;
    }

    // A flat array of exactly n finite numbers, appended to out.
    void floats(const json& j, const std::string& path, size_t n, std::vector<float>& out) const {
        arrayOfSize(j, path, n);
        for (size_t i = 0; i < n; ++i) out.push_back(finiteFloat(j[i], index(path, i)));
    }
    // A nested rows x cols array, returned row-major.
    std::vector<float> matrix(const json& j, const std::string& path, size_t rows, size_t cols) const {
        arrayOfSize(j, path, rows);
        std::vector<float> out;
        out.reserve(rows * cols);
        for (size_t r = 0; r < rows; ++r) floats(j[r], index(path, r), cols, out);
        return out;
    }
    float finiteFloat(const json& j, const std::string& path) const {
        const double v = number(j, path);
        if (std::fabs(v) > (double)std::numeric_limits<float>::max())
            fail(ErrorCode::Format, path, "value " + describeJson(j) + " overflows float32");
        return (float)v;
    }

    static std::string range(long long lo, long long hi) {
        return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    }

private:
    std::string file_;
};

// Python's json module writes NaN / Infinity / -Infinity, which strict JSON
// forbids. Map them (outside strings) to null / 1e999 / -1e999 so the loader
// can report which weight is non-finite instead of a bare syntax error.
inline std::string mapNonFiniteLiterals(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool inString = false, escape = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (inString) {
            out.push_back(ch);
            if (escape)
                escape = false;
            else if (ch == '\\')
                escape = true;
            else if (ch == '"')
                inString = false;
            continue;
        }
        if (ch == '"') {
            inString = true;
            out.push_back(ch);
        } else if (text.compare(i, 3, "NaN") == 0) {
            out += "null";
            i += 2;
        } else if (text.compare(i, 8, "Infinity") == 0) {
            out += "1e999";
            i += 7;
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

inline json parseJsonText(const std::string& text, const std::string& file) {
    try {
        return json::parse(mapNonFiniteLiterals(text));
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        const auto p = what.find("parse error");
        throw ModelError(ErrorCode::Parse, file + ": not valid JSON (" + (p == std::string::npos ? what : what.substr(p)) + ")");
    }
}

inline std::string readTextFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ModelError(ErrorCode::Io, path + ": cannot open the file (missing or unreadable)");
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    if (size < 0) throw ModelError(ErrorCode::Io, path + ": cannot read the file");
    if (size > (std::streamoff)(1LL << 30)) throw ModelError(ErrorCode::Limit, path + ": file is larger than 1 GiB");
    f.seekg(0, std::ios::beg);
    std::string text((size_t)size, '\0');
    if (size > 0 && !f.read(&text[0], size)) throw ModelError(ErrorCode::Io, path + ": cannot read the file");
    return text;
}

}  // namespace nscore
