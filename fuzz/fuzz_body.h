/* fuzz_body.h - what the body harnesses share: the rules and a body
 * decoder configured exactly as an eye.fcgi worker configures its own
 * (fcgi/worker.c: the limits come from the built-in configuration
 * defaults, i.e. conf/eye.yaml's values), and the checks run on every
 * decoded body.
 */
#ifndef EYE_FUZZ_BODY_H
#define EYE_FUZZ_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validators/body.h"

/* libFuzzer's start-up hook, shared by the body harnesses: loads the rules
 * (EYE_RULES_DIR or the source tree's) and the decoder; aborts when either
 * cannot be had. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Decodes data as eye.fcgi decodes a POST body of that format, validates
 * each event in both modes and traps when an invariant breaks: a decoded
 * body holds only strict UTF-8 text, every event's text as received lies
 * inside the body, verdicts agree between modes, pointers are well formed. */
void fuzz_body_run(const uint8_t *data, size_t size, enum body_format format, bool gzip);

#endif
