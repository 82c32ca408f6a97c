/*
 * touchdown-guidance-host LIBRARY.so
 *
 * Loads a guidance library written against include/touchdown_guidance.h and
 * speaks the Touchdown guidance line protocol (docs/guidance-protocol.md) on
 * stdin and stdout, calling the library for every message. This is what
 * `touchdown replay --guidance-lib` runs.
 *
 * Exit status:
 *   0  the tool sent `end`
 *   1  td_guidance_create refused (the answer to `start` was `error ...`)
 *   2  usage, loading, protocol or I/O error (message on stderr)
 *   3  the library failed: a non-zero return from td_guidance_step, or an
 *      output the protocol cannot carry (message on stderr)
 *   killed by a signal: the library crashed (SIGSEGV, SIGABRT, ...)
 *
 * The library's own stdout goes to stderr and its stdin is /dev/null, so
 * nothing it prints or reads can corrupt the protocol. No clocks, no
 * randomness: the host adds nothing that is not in its input.
 */

#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "touchdown_guidance.h"

enum {
    EXIT_REFUSED = 1,
    EXIT_HOST = 2,
    EXIT_LIBRARY = 3,
};

/// The longest line accepted, without its LF. Longer lines are an error.
#define LINE_CAPACITY_BYTES (64 * 1024)
/// The most `param` lines accepted before `start`.
#define MAX_PARAMS 1024
/// Bytes offered to td_guidance_create for its error message.
#define CREATE_ERROR_CAPACITY 1024
/// Most fields on one line: `imu` has 8.
#define MAX_TOKENS 16
/// How much of an offending line an error message quotes.
#define QUOTE_LIMIT_BYTES 200

static const char program_name[] = "touchdown-guidance-host";

// MARK: Errors

static void die(int status, const char *format, ...) __attribute__((noreturn, format(printf, 2, 3)));

static void die(int status, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", program_name);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    exit(status);
}

/// Writes `text` (`length` bytes) quoted, with control bytes, quotes and
/// backslashes escaped, and at most QUOTE_LIMIT_BYTES of it.
static void quote(FILE *stream, const char *text, size_t length) {
    fputc('"', stream);
    size_t shown = length < QUOTE_LIMIT_BYTES ? length : QUOTE_LIMIT_BYTES;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            fprintf(stream, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(stream, "\\x%02x", c);
        } else {
            fputc(c, stream);
        }
    }
    fputc('"', stream);
    if (shown < length) fprintf(stream, " (%zu more bytes)", length - shown);
}

// MARK: Reading lines

typedef struct line_reader {
    FILE *stream;
    /// The current line, NUL-terminated, without its LF.
    char text[LINE_CAPACITY_BYTES + 1];
    size_t length;
    /// 1-based number of the current line.
    unsigned long long number;
} line_reader;

/// Reads the next line. Returns 1 with a line, 0 at the end of input on a
/// line boundary; exits on a read error, an over-long line, a NUL byte or
/// input that ends mid-line.
static int read_line(line_reader *reader) {
    size_t length = 0;
    reader->number += 1;
    for (;;) {
        int c = getc_unlocked(reader->stream);
        if (c == EOF) {
            if (ferror(reader->stream)) {
                die(EXIT_HOST, "cannot read line %llu of stdin: %s", reader->number, strerror(errno));
            }
            if (length == 0) return 0;
            reader->text[length] = '\0';
            fprintf(stderr, "%s: line %llu ends without a line feed (stdin closed mid-line): ", program_name,
                    reader->number);
            quote(stderr, reader->text, length);
            fputc('\n', stderr);
            exit(EXIT_HOST);
        }
        if (c == '\n') break;
        if (c == '\0') {
            die(EXIT_HOST, "line %llu contains a NUL byte at byte %zu; lines are UTF-8 text", reader->number,
                length + 1);
        }
        if (length == LINE_CAPACITY_BYTES) {
            die(EXIT_HOST, "line %llu is longer than %d bytes (the limit of this host)", reader->number,
                LINE_CAPACITY_BYTES);
        }
        reader->text[length++] = (char)c;
    }
    reader->text[length] = '\0';
    reader->length = length;
    return 1;
}

static void fail_line(const line_reader *reader, const char *format, ...) __attribute__((noreturn, format(printf, 2, 3)));

/// Reports a malformed line, quoting it, and exits with status 2.
static void fail_line(const line_reader *reader, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: line %llu: ", program_name, reader->number);
    vfprintf(stderr, format, arguments);
    fputs(": ", stderr);
    quote(stderr, reader->text, reader->length);
    if (reader->length > 0 && reader->text[reader->length - 1] == '\r') {
        fputs(" (lines end with LF alone, not CR LF)", stderr);
    }
    fputc('\n', stderr);
    va_end(arguments);
    exit(EXIT_HOST);
}

/// Fields of a line, split at runs of spaces. `count` is how many the line
/// has; only the first MAX_TOKENS are kept (`config` and `param` lines,
/// which can have more, are read from the line's text instead).
typedef struct fields {
    char storage[LINE_CAPACITY_BYTES + 1];
    const char *field[MAX_TOKENS];
    int count;
} fields;

static void split(const line_reader *reader, fields *out) {
    memcpy(out->storage, reader->text, reader->length + 1);
    out->count = 0;
    char *p = out->storage;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == '\0') return;
        if (out->count < MAX_TOKENS) out->field[out->count] = p;
        out->count += 1;
        while (*p != ' ' && *p != '\0') p++;
        if (*p == '\0') return;
        *p++ = '\0';
    }
}

// MARK: Numbers

/// Parses a decimal unsigned integer: digits only (no sign, no spaces).
static int parse_u64(const char *text, uint64_t *out) {
    if (*text == '\0') return 0;
    uint64_t value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return 0;
        uint64_t digit = (uint64_t)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10) return 0;
        value = value * 10 + digit;
    }
    *out = value;
    return 1;
}

/// Parses a double as strtod does (`nan` and `inf` included), the whole field.
/// A finite number too large for a double is refused; one too small becomes
/// a subnormal or zero, as strtod gives it.
static int parse_double(const char *text, double *out) {
    if (*text == '\0' || isspace((unsigned char)*text)) return 0;
    errno = 0;
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0') return 0;
    if (errno == ERANGE && isinf(value)) return 0;
    *out = value;
    return 1;
}

static uint64_t field_u64(const line_reader *reader, const fields *f, int index, const char *name) {
    uint64_t value = 0;
    if (!parse_u64(f->field[index], &value)) {
        fail_line(reader, "%s must be an unsigned decimal integer below 2^64, not \"%s\"", name, f->field[index]);
    }
    return value;
}

static double field_double(const line_reader *reader, const fields *f, int index, const char *name) {
    double value = 0;
    if (!parse_double(f->field[index], &value)) {
        fail_line(reader, "%s must be a number (as strtod reads it, nan and inf included), not \"%s\"", name,
                  f->field[index]);
    }
    return value;
}

static int32_t field_valid(const line_reader *reader, const fields *f, int index) {
    const char *text = f->field[index];
    if (strcmp(text, "0") == 0) return 0;
    if (strcmp(text, "1") == 0) return 1;
    fail_line(reader, "valid must be 0 or 1, not \"%s\"", text);
}

static void expect_field_count(const line_reader *reader, const fields *f, int count, const char *layout) {
    if (f->count != count) {
        fail_line(reader, "expected \"%s\" (%d fields), found %d fields", layout, count, f->count);
    }
}

// MARK: The library

typedef struct library {
    int (*abi_version)(void);
    void *(*create)(const td_config *, const td_param *, size_t, char *, size_t);
    void (*imu)(void *, const td_imu *);
    void (*altimeter)(void *, const td_altimeter *);
    void (*velocimeter)(void *, const td_velocimeter *);
    void (*attitude)(void *, const td_attitude *);
    int (*step)(void *, uint64_t, td_output *);
    void (*destroy)(void *);
} library;

/// Resolves `name` in `handle` into the function pointer at `function`.
static void resolve(void *handle, const char *path, const char *name, void *function, size_t size) {
    (void)dlerror();
    void *symbol = dlsym(handle, name);
    const char *problem = dlerror();
    if (symbol == NULL) {
        die(EXIT_HOST,
            "guidance library %s does not export %s (%s); a guidance library exports td_guidance_abi_version, "
            "td_guidance_create, td_guidance_imu, td_guidance_altimeter, td_guidance_velocimeter, "
            "td_guidance_attitude, td_guidance_step and td_guidance_destroy (see touchdown_guidance.h)",
            path, name, problem != NULL ? problem : "symbol is NULL");
    }
    if (size != sizeof symbol) die(EXIT_HOST, "function pointers differ in size from data pointers here");
    memcpy(function, &symbol, size);
}

#define RESOLVE(handle, path, lib, member, name) resolve(handle, path, name, &(lib)->member, sizeof((lib)->member))

static void load(const char *path, library *lib) {
    // dlopen searches the library path for a bare name; the argument is a file.
    char *file = NULL;
    if (strchr(path, '/') == NULL) {
        size_t size = strlen(path) + 3;
        file = malloc(size);
        if (file == NULL) die(EXIT_HOST, "out of memory");
        snprintf(file, size, "./%s", path);
    }
    void *handle = dlopen(file != NULL ? file : path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *problem = dlerror();
        die(EXIT_HOST, "cannot load guidance library %s: %s", path, problem != NULL ? problem : "unknown error");
    }
    free(file);
    RESOLVE(handle, path, lib, abi_version, "td_guidance_abi_version");
    RESOLVE(handle, path, lib, create, "td_guidance_create");
    RESOLVE(handle, path, lib, imu, "td_guidance_imu");
    RESOLVE(handle, path, lib, altimeter, "td_guidance_altimeter");
    RESOLVE(handle, path, lib, velocimeter, "td_guidance_velocimeter");
    RESOLVE(handle, path, lib, attitude, "td_guidance_attitude");
    RESOLVE(handle, path, lib, step, "td_guidance_step");
    RESOLVE(handle, path, lib, destroy, "td_guidance_destroy");
    int version = lib->abi_version();
    if (version != TD_GUIDANCE_ABI_VERSION) {
        die(EXIT_HOST, "guidance library %s was built for guidance ABI version %d; this host speaks version %d", path,
            version, TD_GUIDANCE_ABI_VERSION);
    }
    // The handle stays open until exit: the library's code runs until then.
}

// MARK: Config

typedef struct config_key {
    const char *name;
    size_t offset;
    int is_count;
} config_key;

#define DOUBLE_KEY(field) {#field, offsetof(td_config, field), 0}

static const config_key config_keys[] = {
    DOUBLE_KEY(site_downrange_m),
    DOUBLE_KEY(site_elevation_m),
    DOUBLE_KEY(moon_radius_m),
    DOUBLE_KEY(moon_gm_m3ps2),
    DOUBLE_KEY(initial_mass_kg),
    DOUBLE_KEY(dry_mass_kg),
    DOUBLE_KEY(isp_s),
    DOUBLE_KEY(main_thrust_n),
    DOUBLE_KEY(main_min_throttle_fraction),
    {"thruster_count", offsetof(td_config, thruster_count), 1},
    DOUBLE_KEY(thruster_thrust_n),
    DOUBLE_KEY(nav_downrange_m),
    DOUBLE_KEY(nav_altitude_m),
    DOUBLE_KEY(nav_vertical_speed_mps),
    DOUBLE_KEY(nav_horizontal_speed_mps),
    DOUBLE_KEY(nav_pitch_rad),
    DOUBLE_KEY(altitude_sigma_m),
    DOUBLE_KEY(speed_sigma_mps),
    DOUBLE_KEY(guidance_rate_hz),
};
#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

/// Reads `config KEY=VALUE ...` into *config. Unknown keys are ignored (a
/// newer tool may send more); every known key must come exactly once, with
/// a finite value (thruster_count: a whole number, written `6` or `6.0`).
/// The line can have more than MAX_TOKENS fields, so it is parsed here with
/// its own loop rather than through `split`.
static void parse_config(const line_reader *reader, td_config *config) {
    static char storage[LINE_CAPACITY_BYTES + 1];
    int seen[CONFIG_KEY_COUNT] = {0};
    memcpy(storage, reader->text, reader->length + 1);
    char *p = storage + strlen("config");
    memset(config, 0, sizeof *config);
    for (;;) {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        char *entry = p;
        while (*p != ' ' && *p != '\0') p++;
        if (*p != '\0') *p++ = '\0';
        char *equals = strchr(entry, '=');
        if (equals == NULL || equals == entry) {
            fail_line(reader, "config entry \"%s\" is not KEY=VALUE", entry);
        }
        *equals = '\0';
        const char *value_text = equals + 1;
        size_t index = 0;
        while (index < CONFIG_KEY_COUNT && strcmp(config_keys[index].name, entry) != 0) index++;
        if (index == CONFIG_KEY_COUNT) continue;
        if (seen[index]) fail_line(reader, "config key %s is given twice", entry);
        seen[index] = 1;
        double value = 0;
        if (!parse_double(value_text, &value) || !isfinite(value)) {
            fail_line(reader, "config key %s must be a finite number, not \"%s\"", entry, value_text);
        }
        char *target = (char *)config + config_keys[index].offset;
        if (config_keys[index].is_count) {
            // Compared through the cast: no libm (the target links only libdl).
            if (value < 0 || value > INT32_MAX || (double)(int32_t)value != value) {
                fail_line(reader, "config key %s must be a whole number from 0 to %d, not \"%s\"", entry, INT32_MAX,
                          value_text);
            }
            int32_t count = (int32_t)value;
            memcpy(target, &count, sizeof count);
        } else {
            memcpy(target, &value, sizeof value);
        }
    }
    for (size_t index = 0; index < CONFIG_KEY_COUNT; index++) {
        if (!seen[index]) {
            fprintf(stderr, "%s: line %llu: config lacks", program_name, reader->number);
            const char *separator = " ";
            for (size_t missing = index; missing < CONFIG_KEY_COUNT; missing++) {
                if (seen[missing]) continue;
                fprintf(stderr, "%s%s", separator, config_keys[missing].name);
                separator = ", ";
            }
            fputs(": ", stderr);
            quote(stderr, reader->text, reader->length);
            fputc('\n', stderr);
            exit(EXIT_HOST);
        }
    }
}

// MARK: Writing answers

typedef struct writer {
    FILE *stream;
} writer;

static void check_write(int result) {
    if (result < 0) die(EXIT_HOST, "cannot write to stdout: %s", strerror(errno));
}

static void flush(writer *w) {
    if (fflush(w->stream) != 0) die(EXIT_HOST, "cannot write to stdout: %s", strerror(errno));
}

/// %.17g round-trips every finite double; non-finite ones are spelled
/// `nan`, `inf`, `-inf` (never glibc's `-nan`), which the tool reads as
/// invalid output.
static void write_double(writer *w, double value) {
    if (isnan(value)) {
        check_write(fputs(" nan", w->stream));
    } else if (isinf(value)) {
        check_write(fputs(value > 0 ? " inf" : " -inf", w->stream));
    } else {
        check_write(fprintf(w->stream, " %.17g", value));
    }
}

/// Writes `text` with every control character replaced by a space, so a
/// message stays on one line.
static void write_one_line(FILE *stream, const char *text) {
    for (const char *p = text; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        check_write(putc_unlocked(c < 0x20 || c == 0x7f ? ' ' : c, stream) == EOF ? -1 : 0);
    }
}

/// Checks what td_guidance_step returned and writes the `event` lines and
/// the `output` line. A malformed event is the library's fault: status 3.
static void write_step(writer *w, const td_output *out, uint64_t time_ns, unsigned long long line) {
    if (out->event_count < 0 || out->event_count > TD_MAX_EVENTS) {
        die(EXIT_LIBRARY, "td_guidance_step at time_ns %llu (input line %llu) returned event_count %d; accepted: 0 to %d",
            (unsigned long long)time_ns, line, (int)out->event_count, TD_MAX_EVENTS);
    }
    for (int32_t i = 0; i < out->event_count; i++) {
        const td_event *e = &out->events[i];
        const char *problem = NULL;
        size_t kind_length = strnlen(e->kind, TD_EVENT_KIND_CAPACITY);
        if (kind_length == TD_EVENT_KIND_CAPACITY) {
            problem = "a kind that is not NUL-terminated within its 32 bytes";
        } else if (kind_length == 0) {
            problem = "an empty kind";
        } else if (strnlen(e->detail, TD_EVENT_DETAIL_CAPACITY) == TD_EVENT_DETAIL_CAPACITY) {
            problem = "a detail that is not NUL-terminated within its 240 bytes";
        } else {
            for (size_t k = 0; k < kind_length; k++) {
                unsigned char c = (unsigned char)e->kind[k];
                if (c <= 0x20 || c == 0x7f) problem = "a kind with a space or control character";
            }
        }
        if (problem != NULL) {
            die(EXIT_LIBRARY, "td_guidance_step at time_ns %llu (input line %llu) returned event %d with %s",
                (unsigned long long)time_ns, line, (int)i, problem);
        }
        check_write(fprintf(w->stream, "event %s %d ", e->kind, e->anomaly != 0 ? 1 : 0));
        write_one_line(w->stream, e->detail);
        check_write(fputc('\n', w->stream) == EOF ? -1 : 0);
    }
    check_write(fputs("output", w->stream));
    write_double(w, out->main_throttle_fraction);
    write_double(w, out->thruster_throttle_fraction);
    write_double(w, out->pitch_command_rad);
    write_double(w, out->nav_downrange_m);
    write_double(w, out->nav_altitude_m);
    write_double(w, out->nav_vertical_speed_mps);
    write_double(w, out->nav_horizontal_speed_mps);
    write_double(w, out->nav_pitch_rad);
    check_write(fputc('\n', w->stream) == EOF ? -1 : 0);
    flush(w);
}

// MARK: Set-up

/// Moves the protocol off file descriptors 0 and 1: the host reads and
/// writes private duplicates, fd 1 becomes a copy of stderr (so the
/// library's printf cannot corrupt the protocol) and fd 0 reads /dev/null.
static void isolate_protocol(FILE **in, FILE **out) {
    int in_fd = dup(STDIN_FILENO);
    int out_fd = dup(STDOUT_FILENO);
    if (in_fd < 0 || out_fd < 0) die(EXIT_HOST, "cannot duplicate stdin or stdout: %s", strerror(errno));
    if (fflush(stdout) != 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        die(EXIT_HOST, "cannot send the library's stdout to stderr: %s", strerror(errno));
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || close(null_fd) != 0) {
        die(EXIT_HOST, "cannot give the library /dev/null as stdin: %s", strerror(errno));
    }
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0) die(EXIT_HOST, "cannot set the library's stdout buffering");
    *in = fdopen(in_fd, "r");
    *out = fdopen(out_fd, "w");
    if (*in == NULL || *out == NULL) die(EXIT_HOST, "cannot open the protocol streams: %s", strerror(errno));
    // Fully buffered: flushed at every answer, not at every line.
    if (setvbuf(*out, NULL, _IOFBF, 64 * 1024) != 0) die(EXIT_HOST, "cannot set the protocol output buffering");
}

// MARK: The session

typedef enum stage {
    EXPECT_VERSION,
    EXPECT_CONFIG,
    EXPECT_PARAMS_OR_START,
    RUNNING,
} stage;

static const char *const stage_expectation[] = {
    [EXPECT_VERSION] = "the version line \"touchdown-guidance 1\"",
    [EXPECT_CONFIG] = "a \"config KEY=VALUE ...\" line",
    [EXPECT_PARAMS_OR_START] = "\"param NAME=VALUE\" or \"start\"",
    [RUNNING] = "imu, altimeter, velocimeter, attitude, step or end",
};

typedef struct session {
    library lib;
    line_reader reader;
    fields fields;
    writer out;
    stage stage;
    td_config config;
    td_param params[MAX_PARAMS];
    size_t param_count;
    void *guidance;
} session;

/// After `error`: the tool ends the run with `end` or by closing stdin;
/// whatever else it sends is read and dropped (the lines are still bounded).
static void exit_after_refusal(session *s) {
    while (read_line(&s->reader)) {
        if (strcmp(s->reader.text, "end") == 0) break;
    }
    exit(EXIT_REFUSED);
}

static void start(session *s) {
    char error[CREATE_ERROR_CAPACITY];
    memset(error, 0, sizeof error);
    s->guidance = s->lib.create(&s->config, s->param_count > 0 ? s->params : NULL, s->param_count, error, sizeof error);
    error[sizeof error - 1] = '\0';
    if (s->guidance == NULL) {
        check_write(fputs("error ", s->out.stream));
        const char *message = error[0] != '\0' ? error : "td_guidance_create failed without a message";
        write_one_line(s->out.stream, message);
        check_write(fputc('\n', s->out.stream) == EOF ? -1 : 0);
        flush(&s->out);
        fprintf(stderr, "%s: td_guidance_create refused: ", program_name);
        write_one_line(stderr, message);
        fputc('\n', stderr);
        exit_after_refusal(s);
    }
    check_write(fputs("ready\n", s->out.stream));
    flush(&s->out);
}

static void add_param(session *s) {
    const line_reader *r = &s->reader;
    if (strncmp(r->text, "param ", 6) != 0) fail_line(r, "expected \"param NAME=VALUE\"");
    const char *entry = r->text + 6;
    const char *equals = strchr(entry, '=');
    if (equals == NULL || equals == entry) fail_line(r, "expected \"param NAME=VALUE\" with a non-empty NAME");
    if (s->param_count == MAX_PARAMS) fail_line(r, "more than %d param lines", MAX_PARAMS);
    size_t name_length = (size_t)(equals - entry);
    char *name = malloc(name_length + 1);
    char *value = strdup(equals + 1);
    if (name == NULL || value == NULL) die(EXIT_HOST, "out of memory");
    memcpy(name, entry, name_length);
    name[name_length] = '\0';
    s->params[s->param_count].name = name;
    s->params[s->param_count].value = value;
    s->param_count += 1;
}

/// Handles one line while flying. Returns 0 after `end`, 1 otherwise.
static int fly(session *s) {
    const line_reader *r = &s->reader;
    const fields *f = &s->fields;
    const char *kind = f->field[0];
    if (strcmp(kind, "imu") == 0) {
        expect_field_count(r, f, 8,
                           "imu STAMP_NS ACCEL_X_MPS2 ACCEL_Y_MPS2 ACCEL_Z_MPS2 RATE_X_RADPS RATE_Y_RADPS RATE_Z_RADPS");
        td_imu m = {
            .stamp_ns = field_u64(r, f, 1, "stamp_ns"),
            .accel_x_mps2 = field_double(r, f, 2, "accel_x_mps2"),
            .accel_y_mps2 = field_double(r, f, 3, "accel_y_mps2"),
            .accel_z_mps2 = field_double(r, f, 4, "accel_z_mps2"),
            .rate_x_radps = field_double(r, f, 5, "rate_x_radps"),
            .rate_y_radps = field_double(r, f, 6, "rate_y_radps"),
            .rate_z_radps = field_double(r, f, 7, "rate_z_radps"),
        };
        s->lib.imu(s->guidance, &m);
    } else if (strcmp(kind, "altimeter") == 0) {
        expect_field_count(r, f, 4, "altimeter STAMP_NS RANGE_M VALID");
        td_altimeter m = {
            .stamp_ns = field_u64(r, f, 1, "stamp_ns"),
            .range_m = field_double(r, f, 2, "range_m"),
            .valid = field_valid(r, f, 3),
        };
        s->lib.altimeter(s->guidance, &m);
    } else if (strcmp(kind, "velocimeter") == 0) {
        expect_field_count(r, f, 5, "velocimeter STAMP_NS HORIZONTAL_VELOCITY_MPS VERTICAL_VELOCITY_MPS VALID");
        td_velocimeter m = {
            .stamp_ns = field_u64(r, f, 1, "stamp_ns"),
            .horizontal_velocity_mps = field_double(r, f, 2, "horizontal_velocity_mps"),
            .vertical_velocity_mps = field_double(r, f, 3, "vertical_velocity_mps"),
            .valid = field_valid(r, f, 4),
        };
        s->lib.velocimeter(s->guidance, &m);
    } else if (strcmp(kind, "attitude") == 0) {
        expect_field_count(r, f, 4, "attitude STAMP_NS PITCH_RAD VALID");
        td_attitude m = {
            .stamp_ns = field_u64(r, f, 1, "stamp_ns"),
            .pitch_rad = field_double(r, f, 2, "pitch_rad"),
            .valid = field_valid(r, f, 3),
        };
        s->lib.attitude(s->guidance, &m);
    } else if (strcmp(kind, "step") == 0) {
        expect_field_count(r, f, 2, "step TIME_NS");
        uint64_t time_ns = field_u64(r, f, 1, "time_ns");
        td_output out;
        memset(&out, 0, sizeof out);
        out.main_throttle_fraction = NAN;
        out.thruster_throttle_fraction = NAN;
        out.pitch_command_rad = NAN;
        out.nav_downrange_m = NAN;
        out.nav_altitude_m = NAN;
        out.nav_vertical_speed_mps = NAN;
        out.nav_horizontal_speed_mps = NAN;
        out.nav_pitch_rad = NAN;
        int code = s->lib.step(s->guidance, time_ns, &out);
        if (code != 0) {
            die(EXIT_LIBRARY, "error step failed with code %d (td_guidance_step at time_ns %llu, input line %llu)", code,
                (unsigned long long)time_ns, r->number);
        }
        write_step(&s->out, &out, time_ns, r->number);
    } else if (strcmp(kind, "end") == 0) {
        expect_field_count(r, f, 1, "end");
        return 0;
    } else {
        fail_line(r, "expected %s", stage_expectation[RUNNING]);
    }
    return 1;
}

static session the_session;

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
        fprintf(stderr,
                "usage: %s LIBRARY.so\n"
                "Loads a guidance library (see touchdown_guidance.h) and speaks the Touchdown guidance\n"
                "line protocol on stdin and stdout (docs/guidance-protocol.md).\n",
                program_name);
        return EXIT_HOST;
    }
    // Numbers are read and written in the C locale, whatever the library sets.
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0 || uselocale(c_locale) == (locale_t)0) {
        die(EXIT_HOST, "cannot select the C locale: %s", strerror(errno));
    }
    // A tool that goes away makes writes fail with EPIPE, reported below.
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) die(EXIT_HOST, "cannot ignore SIGPIPE: %s", strerror(errno));

    session *s = &the_session;
    isolate_protocol(&s->reader.stream, &s->out.stream);
    load(argv[1], &s->lib);

    s->stage = EXPECT_VERSION;
    while (read_line(&s->reader)) {
        split(&s->reader, &s->fields);
        if (s->fields.count == 0) fail_line(&s->reader, "empty line; expected %s", stage_expectation[s->stage]);
        const char *kind = s->fields.field[0];
        switch (s->stage) {
        case EXPECT_VERSION:
            if (strcmp(kind, "touchdown-guidance") != 0 || s->fields.count != 2) {
                fail_line(&s->reader, "expected %s", stage_expectation[EXPECT_VERSION]);
            }
            if (strcmp(s->fields.field[1], "1") != 0) {
                fail_line(&s->reader, "unsupported protocol version \"%s\"; this host speaks version 1",
                          s->fields.field[1]);
            }
            s->stage = EXPECT_CONFIG;
            break;
        case EXPECT_CONFIG:
            if (strcmp(kind, "config") != 0) fail_line(&s->reader, "expected %s", stage_expectation[EXPECT_CONFIG]);
            parse_config(&s->reader, &s->config);
            s->stage = EXPECT_PARAMS_OR_START;
            break;
        case EXPECT_PARAMS_OR_START:
            if (strcmp(kind, "param") == 0) {
                add_param(s);
            } else if (strcmp(kind, "start") == 0 && s->fields.count == 1) {
                start(s);
                s->stage = RUNNING;
            } else {
                fail_line(&s->reader, "expected %s", stage_expectation[EXPECT_PARAMS_OR_START]);
            }
            break;
        case RUNNING:
            if (!fly(s)) {
                s->lib.destroy(s->guidance);
                return 0;
            }
            break;
        }
    }
    die(EXIT_HOST, "stdin ended after line %llu without \"end\" (while expecting %s)", s->reader.number - 1,
        stage_expectation[s->stage]);
}
