# Writes OUTPUT, a C++ source holding the bytes of INPUT as nsModelData / nsModelSize.
file(READ "${INPUT}" hex HEX)
file(SIZE "${INPUT}" size)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT}\n#include <cstddef>\nextern const unsigned char nsModelData[] = {\n${bytes}0};\nextern const std::size_t nsModelSize = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
