// UTF-8 validation: valid text of every length, each class of invalid sequence refused at the
// byte that rules it out (also when that byte arrives in a later piece), and the automaton
// checked against a plain decoder over every 1- to 3-byte sequence and many 4-byte ones.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "websocket/utf8.hpp"

namespace c10k::websocket {
namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

/// The index of the byte at which feeding one byte at a time first fails; npos when none does.
std::size_t failing_byte(const std::string& text) {
    Utf8Validator validator;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!validator.feed(text.data() + i, 1)) return i;
    }
    return std::string::npos;
}

/// A plain decoder following RFC 3629's definition, to check the automaton against.
bool reference_valid(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length;
        std::uint32_t cp;
        if (lead < 0x80) {
            length = 1;
            cp = lead;
        } else if (lead >= 0xC0 && lead < 0xE0) {
            length = 2;
            cp = lead & 0x1F;
        } else if (lead >= 0xE0 && lead < 0xF0) {
            length = 3;
            cp = lead & 0x0F;
        } else if (lead >= 0xF0 && lead < 0xF8) {
            length = 4;
            cp = lead & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            auto c = static_cast<unsigned char>(text[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (c & 0x3F);
        }
        static const std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

TEST(Utf8, AcceptsValidText) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("Hello, world"));
    EXPECT_TRUE(is_valid_utf8(
        bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5})));  // κόσμε
    for (const std::string& boundary : {
             bytes({0x00}), bytes({0x7F}),              // U+0000, U+007F
             bytes({0xC2, 0x80}), bytes({0xDF, 0xBF}),  // U+0080, U+07FF
             bytes({0xE0, 0xA0, 0x80}),                 // U+0800
             bytes({0xED, 0x9F, 0xBF}),                 // U+D7FF, below the surrogates
             bytes({0xEE, 0x80, 0x80}),                 // U+E000, above them
             bytes({0xEF, 0xBF, 0xBD}),                 // U+FFFD
             bytes({0xEF, 0xBF, 0xBF}),                 // U+FFFF (a noncharacter, but valid)
             bytes({0xF0, 0x90, 0x80, 0x80}),           // U+10000
             bytes({0xF4, 0x8F, 0xBF, 0xBF}),           // U+10FFFF
         }) {
        EXPECT_TRUE(is_valid_utf8(boundary)) << testing::PrintToString(boundary);
        EXPECT_EQ(failing_byte(boundary), std::string::npos);
    }
}

TEST(Utf8, RefusesEachInvalidClassAtTheRightByte) {
    struct Case {
        std::string text;
        std::size_t fails_at;
        const char* what;
    };
    std::vector<Case> cases = {
        {bytes({0x80}), 0, "a lone continuation byte"},
        {bytes({'a', 0xBF}), 1, "a continuation byte after ASCII"},
        {bytes({0xC0, 0x80}), 0, "overlong NUL (C0)"},
        {bytes({0xC1, 0xBF}), 0, "overlong 2-byte (C1)"},
        {bytes({0xE0, 0x80, 0x80}), 1, "overlong 3-byte"},
        {bytes({0xE0, 0x9F, 0xBF}), 1, "overlong U+07FF in 3 bytes"},
        {bytes({0xF0, 0x80, 0x80, 0x80}), 1, "overlong 4-byte"},
        {bytes({0xF0, 0x8F, 0xBF, 0xBF}), 1, "overlong U+FFFF in 4 bytes"},
        {bytes({0xED, 0xA0, 0x80}), 1, "U+D800, a high surrogate"},
        {bytes({0xED, 0xBF, 0xBF}), 1, "U+DFFF, a low surrogate"},
        {bytes({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), 1, "a surrogate pair (CESU-8)"},
        {bytes({0xF4, 0x90, 0x80, 0x80}), 1, "U+110000"},
        {bytes({0xF5, 0x80, 0x80, 0x80}), 0, "a lead byte beyond U+10FFFF"},
        {bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), 0, "a 5-byte form"},
        {bytes({0xFE}), 0, "FE"},
        {bytes({0xFF}), 0, "FF"},
        {bytes({0xC2, 'A'}), 1, "a 2-byte sequence cut by ASCII"},
        {bytes({0xE2, 0x82, 'A'}), 2, "a 3-byte sequence cut by ASCII"},
        {bytes({0xF0, 0x9F, 0x98, 0xC2, 0x80}), 3, "a 4-byte sequence cut by a new lead"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(failing_byte(c.text), c.fails_at) << c.what;
        Utf8Validator whole;
        EXPECT_FALSE(whole.feed(c.text)) << c.what;
        EXPECT_TRUE(whole.failed()) << c.what;
        EXPECT_FALSE(whole.feed("more ASCII")) << "stays failed: " << c.what;
        EXPECT_FALSE(is_valid_utf8(c.text)) << c.what;
    }
}

TEST(Utf8, ATruncatedSequenceIsInvalidOnlyAtTheEnd) {
    for (const std::string& truncated :
         {bytes({'a', 0xC2}), bytes({0xE2, 0x82}), bytes({0xF0, 0x9F, 0x98})}) {
        Utf8Validator validator;
        EXPECT_TRUE(validator.feed(truncated));  // not invalid yet: more may follow
        EXPECT_FALSE(validator.complete());
        EXPECT_FALSE(validator.failed());
        EXPECT_FALSE(is_valid_utf8(truncated));
    }
    Utf8Validator euro;
    EXPECT_TRUE(euro.feed(bytes({0xE2, 0x82})));
    EXPECT_TRUE(euro.feed(bytes({0xAC})));
    EXPECT_TRUE(euro.complete());
    euro.reset();
    EXPECT_TRUE(euro.complete());
}

TEST(Utf8, FailsAtTheRightByteWhenSplitAnywhere) {
    // Autobahn case 6.4.1's text: κόσμε, then F4 90 80 80, whose second byte (index 12) is the
    // first that cannot be valid (it would encode above U+10FFFF), then more text.
    std::string text = bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5,
                              0xF4, 0x90, 0x80, 0x80}) +
                       "edited";
    const std::size_t bad = 12;  // F4 90: above U+10FFFF at the 90
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator validator;
        bool first = validator.feed(text.data(), cut);
        EXPECT_EQ(first, cut <= bad) << cut;
        bool second = validator.feed(text.data() + cut, text.size() - cut);
        EXPECT_FALSE(second) << cut;
    }
}

TEST(Utf8, FastPathFindsABadByteAtEveryOffset) {
    for (std::size_t at = 0; at < 40; ++at) {
        std::string text(40, 'x');
        text[at] = static_cast<char>(0xFF);
        EXPECT_FALSE(is_valid_utf8(text)) << at;
        EXPECT_EQ(failing_byte(text), at);
        // A valid 2-byte character at every offset.
        std::string good(40, 'y');
        good.insert(at, bytes({0xC3, 0xA9}));
        EXPECT_TRUE(is_valid_utf8(good)) << at;
    }
}

TEST(Utf8, AgreesWithAPlainDecoder) {
    std::string s;
    for (int a = 0; a < 256; ++a) {
        s = bytes({a});
        ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a;
        for (int b = 0; b < 256; ++b) {
            s = bytes({a, b});
            ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b;
        }
    }
    for (int a = 0xE0; a < 0x100; ++a) {
        for (int b = 0; b < 256; ++b) {
            for (int c = 0x70; c < 0xD0; ++c) {
                s = bytes({a, b, c});
                ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c;
            }
        }
    }
    for (int a = 0xF0; a < 0xF8; ++a) {
        for (int b = 0; b < 256; ++b) {
            for (int c : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
                for (int d : {0x41, 0x80, 0x9F, 0xBF, 0xC2}) {
                    s = bytes({a, b, c, d});
                    ASSERT_EQ(is_valid_utf8(s), reference_valid(s));
                }
            }
        }
    }
}

}  // namespace
}  // namespace c10k::websocket
