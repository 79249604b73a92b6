// Strict, error-naming access to a parsed JSON model file.
// Every failure throws ModelError with "<file>: <field path>: <what was expected>, found <what>".
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
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
        if (!j.is_number()) expected(path, "a number", j);
        const double v = j.get<double>();
        if (!std::isfinite(v))
            fail(ErrorCode::Format, path, "is " + std::string(std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") +
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
    void floats(const json& j, const std::string& path, size_t n, Buffer& out) const {
        arrayOfSize(j, path, n);
        for (size_t i = 0; i < n; ++i) out.push_back(finiteFloat(j[i], index(path, i)));
    }
    // A nested rows x cols array, returned row-major.
    Buffer matrix(const json& j, const std::string& path, size_t rows, size_t cols) const {
        arrayOfSize(j, path, rows);
        Buffer out;
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

// Floats of one causal convolution's history buffer, as History::prepare sizes
// it for the default 4096-sample block (hosts rarely use larger blocks): the
// loaders add these up and compare them to Limits::maxStateFloats before anything
// is allocated, so a small file cannot ask for gigabytes of state.
inline long long historyFloats(long long rows, long long hist) {
    return rows * (hist + std::max<long long>(hist, 4096));
}

// Python's json module writes NaN / Infinity / -Infinity, which strict JSON
// forbids, and a number such as 1e999 overflows a double. So that the loader can
// name the weight that is non-finite instead of failing with a bare syntax error,
// these are rewritten (outside strings) to sentinel number tokens that the parser
// below turns back into NaN / +inf / -inf values. A token equal to a sentinel that
// is written in the file itself is first rewritten to "0" (its value), so a
// sentinel can only come from this mapping.
namespace nonfinite {
constexpr const char* nanToken = "0e999990";
constexpr const char* infToken = "0e999991";

// Does the number token s[b, e) overflow a double? A cheap bound on its magnitude
// first; only a token that may reach 1e308 is converted, by the JSON parser itself
// (locale-independent, unlike strtod). An invalid token is left for the parser to reject.
inline bool overflowsDouble(const std::string& s, size_t b, size_t e) {
    auto digit = [&](size_t k) { return k < e && s[k] >= '0' && s[k] <= '9'; };
    size_t i = b;
    if (i < e && s[i] == '-') ++i;
    while (i < e && s[i] == '0') ++i;
    long long magnitude = 0;  // the value is below 10^(magnitude + exponent)
    for (; digit(i); ++i) ++magnitude;
    if (i < e && s[i] == '.')
        for (++i; digit(i); ++i) {}
    long long exponent = 0;
    if (i < e && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        const bool negative = i < e && s[i] == '-';
        if (i < e && (s[i] == '+' || s[i] == '-')) ++i;
        for (; digit(i); ++i) exponent = std::min(exponent * 10 + (s[i] - '0'), 1LL << 40);
        if (negative) exponent = -exponent;
    }
    if (magnitude + exponent <= 308) return false;
    try {
        const json value = json::parse(s.begin() + (std::ptrdiff_t)b, s.begin() + (std::ptrdiff_t)e);
        return !value.is_number();
    } catch (const json::out_of_range&) {
        return true;
    } catch (const json::exception&) {
        return false;
    }
}
}  // namespace nonfinite

inline std::string mapNonFiniteLiterals(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool inString = false, escape = false;
    auto isNumberChar = [](char c) { return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'; };
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
            out += nonfinite::nanToken;
            i += 2;
        } else if (text.compare(i, 8, "Infinity") == 0) {
            out += nonfinite::infToken;
            i += 7;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t e = i;
            while (e < text.size() && isNumberChar(text[e])) ++e;
            const size_t body = ch == '-' ? i + 1 : i;
            if (ch == '-' && text.compare(body, 3, "NaN") == 0 && e == body) {
                out += nonfinite::nanToken;  // -NaN is NaN
                i += 3;
                continue;
            }
            const char* sign = body > i ? "-" : "";
            if (text.compare(body, e - body, nonfinite::nanToken) == 0 ||
                text.compare(body, e - body, nonfinite::infToken) == 0)
                (out += sign) += "0";
            else if (nonfinite::overflowsDouble(text, i, e))
                (out += sign) += nonfinite::infToken;
            else
                out.append(text, i, e - i);
            i = e - 1;
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

// Builds the DOM from parser events (nlohmann's public SAX interface), turning
// the sentinel tokens of mapNonFiniteLiterals back into NaN / +inf / -inf.
class NonFiniteDomBuilder : public json::json_sax_t {
public:
    explicit NonFiniteDomBuilder(json& root) : root_(root) {}
    bool null() override { return put(nullptr); }
    bool boolean(bool v) override { return put(v); }
    bool number_integer(number_integer_t v) override { return put(v); }
    bool number_unsigned(number_unsigned_t v) override { return put(v); }
    bool number_float(number_float_t v, const string_t& token) override {
        const bool neg = !token.empty() && token[0] == '-';
        const size_t b = neg ? 1 : 0;
        if (token.compare(b, std::string::npos, nonfinite::nanToken) == 0)
            v = std::numeric_limits<double>::quiet_NaN();
        else if (token.compare(b, std::string::npos, nonfinite::infToken) == 0)
            v = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        return put(v);
    }
    bool string(string_t& v) override { return put(std::move(v)); }
    bool binary(binary_t& v) override { return put(json::binary(std::move(v))); }
    bool start_object(std::size_t) override {
        put(json::object());
        stack_.push_back(last_);
        return true;
    }
    bool key(string_t& k) override {
        slot_ = &(*stack_.back())[k];
        return true;
    }
    bool end_object() override {
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        put(json::array());
        stack_.push_back(last_);
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override { throw e; }

private:
    bool put(json v) {
        if (stack_.empty()) {
            root_ = std::move(v);
            last_ = &root_;
        } else if (stack_.back()->is_array()) {
            stack_.back()->push_back(std::move(v));
            last_ = &stack_.back()->back();
        } else {
            *slot_ = std::move(v);
            last_ = slot_;
        }
        return true;
    }
    json& root_;
    std::vector<json*> stack_;  // open arrays / objects; an element is never moved while its container is open
    json* slot_ = nullptr;      // the object member named by the last key
    json* last_ = nullptr;
};

inline json parseJsonText(const std::string& text, const std::string& file) {
    try {
        json root;
        NonFiniteDomBuilder sax(root);
        if (!json::sax_parse(mapNonFiniteLiterals(text), &sax))
            throw ModelError(ErrorCode::Parse, file + ": not valid JSON");
        return root;
    } catch (const json::exception& e) {
        std::string what = e.what();
        const auto p = what.find("parse error");
        const auto q = what.find("] ");
        throw ModelError(ErrorCode::Parse,
                         file + ": not valid JSON (" +
                             (p != std::string::npos ? what.substr(p) : q != std::string::npos ? what.substr(q + 2) : what) + ")");
    }
}

inline std::string readTextFile(const std::string& path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (!ec && std::filesystem::is_directory(st))
        throw ModelError(ErrorCode::Io, path + ": is a directory, expected a model file");
    if (!ec && std::filesystem::is_regular_file(st)) {
        const auto size = std::filesystem::file_size(path, ec);
        if (!ec && size > (1ULL << 30)) throw ModelError(ErrorCode::Limit, path + ": file is larger than 1 GiB");
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ModelError(ErrorCode::Io, path + ": cannot open the file (missing or unreadable)");
    // Read in chunks rather than trusting seek/tell, which fail or lie for
    // pipes, /proc files and other non-regular files.
    std::string text;
    std::vector<char> buf(1 << 16);
    while (f) {
        f.read(buf.data(), (std::streamsize)buf.size());
        const std::streamsize got = f.gcount();
        if (got <= 0) break;
        text.append(buf.data(), (size_t)got);
        if (text.size() > (1ULL << 30)) throw ModelError(ErrorCode::Limit, path + ": file is larger than 1 GiB");
    }
    if (f.bad()) throw ModelError(ErrorCode::Io, path + ": cannot read the file");
    return text;
}

}  // namespace nscore
