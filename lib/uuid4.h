/* uuid4.h - random (version 4) UUIDs as text, for event ids.
 *
 * Shared by eye.fcgi (through lib/libeye.a) and libeyeclient (compiled into
 * the shared library, not exported). No allocation; thread-safe.
 */
#ifndef EYE_LIB_UUID4_H
#define EYE_LIB_UUID4_H

/* Text of a UUID with its NUL: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
#define UUID4_TEXT_SIZE 37

/* Writes a new version 4 UUID, lower case, into out. */
void uuid4_generate(char out[UUID4_TEXT_SIZE]);

#endif
