/* ruleset.c - load a rules folder into an immutable compiled rule set.
 *
 * Loading is all-or-nothing: every file is parsed and compiled, every
 * problem is collected (so an operator sees them all in one run of
 * `eye-admin rules check`), and only a load with no problem at all yields
 * a set. The caller swaps a new set in whole; readers never see half of one.
 *
 * Lookup by category + name is an open-addressing hash table built once at
 * load, so the request path costs one hash and usually one comparison.
 */
#include "autoconfig.h"

#include "validators/ruleset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "validators/envelope.h"
#include "validators/schema.h"
#include "validators/yamltree.h"

struct rule {
    char *category;
    size_t category_len;
    char *name;
    size_t name_len;
    char *description;
    char *file;
    struct schema *data;
    int line, column; /* of `name`, for duplicate reports */
};

struct ruleset {
    struct rule *rules; /* sorted by category, then name */
    size_t count;
    size_t *table; /* index + 1 into rules; 0 = empty slot */
    size_t table_size;
    char version[17];
    struct envelope envelope;
};

/* ---------------------------------------------------------------------
 * Freeing and accessors.
 * ------------------------------------------------------------------- */

static void rs_rule_clear(struct rule *r)
{
    free(r->category);
    free(r->name);
    free(r->description);
    free(r->file);
    schema_free(r->data);
    memset(r, 0, sizeof(*r));
}

void ruleset_free(struct ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->count; i++)
        rs_rule_clear(&rs->rules[i]);
    free(rs->rules);
    free(rs->table);
    envelope_clear(&rs->envelope);
    free(rs);
}

const char *ruleset_version(const struct ruleset *rs)
{
    return rs->version;
}

size_t ruleset_count(const struct ruleset *rs)
{
    return rs->count;
}

const struct rule *ruleset_rule(const struct ruleset *rs, size_t i)
{
    return i < rs->count ? &rs->rules[i] : NULL;
}

const char *rule_category(const struct rule *r)
{
    return r->category;
}

const char *rule_name(const struct rule *r)
{
    return r->name;
}

const char *rule_description(const struct rule *r)
{
    return r->description;
}

const char *rule_file(const struct rule *r)
{
    return r->file;
}

const struct schema *rule_data_schema(const struct rule *r)
{
    return r->data;
}

const struct schema *ruleset_envelope_schema(const struct ruleset *rs, enum envelope_field f)
{
    return rs->envelope.fields[f];
}

void ruleset_envelope_limits(const struct ruleset *rs, enum envelope_field field,
                             struct envelope_limits *out)
{
    envelope_field_limits(&rs->envelope, field, out);
}

int64_t ruleset_future_tolerance_us(const struct ruleset *rs)
{
    return rs->envelope.future_us;
}

int64_t ruleset_max_age_us(const struct ruleset *rs)
{
    return rs->envelope.max_age_us;
}

enum ruleset_unknown_policy ruleset_unknown_policy(const struct ruleset *rs)
{
    return rs->envelope.unknown;
}

/* ---------------------------------------------------------------------
 * Hash table.
 * ------------------------------------------------------------------- */

static uint64_t rs_hash(const char *category, size_t clen, const char *name, size_t nlen)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < clen; i++)
        h = (h ^ (unsigned char)category[i]) * UINT64_C(1099511628211);
    h = (h ^ 0xff) * UINT64_C(1099511628211);
    for (size_t i = 0; i < nlen; i++)
        h = (h ^ (unsigned char)name[i]) * UINT64_C(1099511628211);
    return h;
}

static bool rs_build_table(struct ruleset *rs)
{
    size_t size = 8;
    while (size < rs->count * 2)
        size *= 2;
    rs->table = calloc(size, sizeof(*rs->table));
    if (rs->table == NULL)
        return false;
    rs->table_size = size;
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        size_t slot = rs_hash(r->category, r->category_len, r->name, r->name_len) & (size - 1);
        while (rs->table[slot] != 0)
            slot = (slot + 1) & (size - 1);
        rs->table[slot] = i + 1;
    }
    return true;
}

const struct rule *ruleset_lookup(const struct ruleset *rs, const char *category,
                                  size_t category_len, const char *name, size_t name_len)
{
    size_t mask = rs->table_size - 1;
    size_t slot = rs_hash(category, category_len, name, name_len) & mask;
    for (;;) {
        size_t idx = rs->table[slot];
        if (idx == 0)
            return NULL;
        const struct rule *r = &rs->rules[idx - 1];
        if (r->category_len == category_len && r->name_len == name_len &&
            memcmp(r->category, category, category_len) == 0 &&
            memcmp(r->name, name, name_len) == 0)
            return r;
        slot = (slot + 1) & mask;
    }
}

/* ---------------------------------------------------------------------
 * Loading.
 * ------------------------------------------------------------------- */

/* One file being loaded: its display name and its text. */
struct rs_file {
    const char *name; /* base name, hashed and matched against conventions */
    char *display;    /* name shown in problems (owned) */
    const char *text;
    size_t len;
};

/* Compiles one rule file into *r. Returns false with problems recorded. */
static bool rs_compile_rule(const struct ruleset *rs, const struct ynode *root, const char *file,
                            struct rule *r, struct rule_problems *problems)
{
    static const char *const keys[] = {"category", "name", "description", "data"};
    struct schema_loader ld = {file, problems};
    const struct ynode *category = NULL, *name = NULL, *data = NULL;
    bool ok = true;

    if (root->kind != YNODE_MAPPING)
        return ynode_problem(problems, file, root,
                             "a rule file must be a mapping with category, name, description "
                             "and data, not a %s",
                             ynode_type_name(root));
    for (size_t k = 0; k + 1 < root->count; k += 2) {
        const struct ynode *key = root->items[k], *v = root->items[k + 1];
        if (strcmp(key->text, "category") == 0 || strcmp(key->text, "name") == 0 ||
            strcmp(key->text, "description") == 0) {
            if (v->kind != YNODE_SCALAR || v->stype != YSCALAR_STRING) {
                ok = ynode_problem(problems, file, v, "'%s' expects a string, not a %s", key->text,
                                   ynode_type_name(v));
                continue;
            }
            if (key->text[0] == 'c')
                category = v;
            else if (key->text[0] == 'n')
                name = v;
            else if ((r->description = strdup(v->text)) == NULL)
                ok = ynode_problem(problems, file, v, "out of memory");
        } else if (strcmp(key->text, "data") == 0) {
            data = v;
        } else {
            ok = ynode_unknown_key(problems, file, key, "a rule file", keys, 4);
        }
    }
    if (category == NULL)
        ok = ynode_problem(problems, file, root, "the rule has no 'category'");
    else
        ok = envelope_check_value(&rs->envelope, ENVELOPE_CATEGORY, category, file, problems) && ok;
    if (name == NULL)
        ok = ynode_problem(problems, file, root, "the rule has no 'name'");
    else
        ok = envelope_check_value(&rs->envelope, ENVELOPE_NAME, name, file, problems) && ok;
    if (data == NULL) {
        ok = ynode_problem(problems, file, root, "the rule has no 'data' schema");
    } else {
        r->data = schema_compile(data, &ld);
        if (r->data == NULL)
            ok = false;
        else if (schema_types(r->data) != 0 && !(schema_types(r->data) & SCHEMA_T_OBJECT))
            ok = ynode_problem(problems, file, data,
                               "'data' is always an object; its 'type' must allow object");
    }
    if (!ok)
        return false;
    r->category = strdup(category->text);
    r->category_len = category->len;
    r->name = strdup(name->text);
    r->name_len = name->len;
    r->file = strdup(file);
    r->line = name->line;
    r->column = name->column;
    if (r->category == NULL || r->name == NULL || r->file == NULL)
        return ynode_problem(problems, file, root, "out of memory");
    return true;
}

static int rs_file_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rs_file *)a)->name, ((const struct rs_file *)b)->name);
}

static int rs_rule_cmp(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    int c = strcmp(x->category, y->category);
    if (c == 0)
        c = strcmp(x->name, y->name);
    if (c == 0)
        c = strcmp(x->file, y->file);
    return c;
}

/* SHA-256 over the sorted files; writes 16 hex digits and a NUL. */
static bool rs_version(const struct rs_file *files, size_t count, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char lenbuf[32];
    bool ok = false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(lenbuf, sizeof(lenbuf), "%zu", files[i].len);
        if (EVP_DigestUpdate(ctx, files[i].name, strlen(files[i].name) + 1) != 1 ||
            EVP_DigestUpdate(ctx, lenbuf, (size_t)n + 1) != 1 ||
            EVP_DigestUpdate(ctx, files[i].text, files[i].len) != 1)
            goto fail;
    }
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len < 8)
        goto fail;
    for (size_t i = 0; i < 8; i++) {
        static const char hex[] = "0123456789abcdef";
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[16] = '\0';
    ok = true;
fail:
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool rs_is_rule_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* The loader proper. files is sorted here; their display names are freed
 * by the caller. */
static struct ruleset *rs_load(struct rs_file *files, size_t count, struct rule_problems *problems)
{
    struct ruleset *rs = NULL;
    struct ynode *root = NULL;
    bool ok = true;

    rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        goto oom;
    if (count > 0) {
        rs->rules = calloc(count, sizeof(*rs->rules));
        if (rs->rules == NULL)
            goto oom;
    }
    if (count > 1)
        qsort(files, count, sizeof(*files), rs_file_cmp);
    if (!rs_version(files, count, rs->version)) {
        rule_problems_add(problems, "", 0, 0, "cannot compute the rule set version (libcrypto)");
        ok = false;
    }

    /* Envelope: built-in defaults, then the envelope file over them. */
    if (!envelope_load_defaults(&rs->envelope, problems))
        ok = false;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(files[i].name, RULESET_ENVELOPE_FILE) != 0)
            continue;
        root = ytree_parse(files[i].text, files[i].len, files[i].display, problems);
        if (root == NULL || !envelope_apply(&rs->envelope, root, files[i].display, problems))
            ok = false;
        ytree_free(root);
        root = NULL;
    }
    if (!ok)
        goto fail; /* rules are checked against the envelope: it must be sound */

    for (size_t i = 0; i < count; i++) {
        const struct rs_file *file = &files[i];
        if (strcmp(file->name, RULESET_ENVELOPE_FILE) == 0)
            continue;
        if (file->name[0] == '_') {
            rule_problems_add(problems, file->display, 0, 0,
                              "names starting with '_' are reserved (only %s is known); "
                              "rename the file",
                              RULESET_ENVELOPE_FILE);
            ok = false;
            continue;
        }
        root = ytree_parse(file->text, file->len, file->display, problems);
        if (root == NULL) {
            ok = false;
            continue;
        }
        struct rule *r = &rs->rules[rs->count];
        if (rs_compile_rule(rs, root, file->display, r, problems))
            rs->count++;
        else {
            rs_rule_clear(r);
            ok = false;
        }
        ytree_free(root);
        root = NULL;
    }

    if (rs->count > 1)
        qsort(rs->rules, rs->count, sizeof(*rs->rules), rs_rule_cmp);
    for (size_t i = 1; i < rs->count; i++) {
        const struct rule *a = &rs->rules[i - 1], *b = &rs->rules[i];
        if (strcmp(a->category, b->category) == 0 && strcmp(a->name, b->name) == 0) {
            rule_problems_add(problems, b->file, b->line, b->column,
                              "duplicate rule for category '%s' name '%s' (also in %s:%d)",
                              b->category, b->name, a->file, a->line);
            ok = false;
        }
    }
    if (!ok)
        goto fail;
    if (!rs_build_table(rs))
        goto oom;
    return rs;

oom:
    rule_problems_add(problems, "", 0, 0, "out of memory while loading rules");
fail:
    ytree_free(root);
    ruleset_free(rs);
    return NULL;
}

struct ruleset *ruleset_load_texts(const struct rule_text *texts, size_t count,
                                   struct rule_problems *problems)
{
    struct rs_file *files = NULL;
    struct ruleset *rs = NULL;
    if (count > RULESET_MAX_FILES) {
        rule_problems_add(problems, "", 0, 0, "more than %d rule files", RULESET_MAX_FILES);
        return NULL;
    }
    files = calloc(count > 0 ? count : 1, sizeof(*files));
    if (files == NULL) {
        rule_problems_add(problems, "", 0, 0, "out of memory while loading rules");
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        files[i].name = texts[i].name;
        files[i].display = (char *)texts[i].name;
        files[i].text = texts[i].text;
        files[i].len = texts[i].len;
    }
    rs = rs_load(files, count, problems);
    free(files);
    return rs;
}

/* Reads a whole regular file of at most RULESET_MAX_FILE_SIZE bytes. */
static char *rs_read_file(const char *path, size_t *len_out, struct rule_problems *problems)
{
    FILE *fp = NULL;
    char *buf = NULL;
    size_t len = 0;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        rule_problems_add(problems, path, 0, 0, "cannot open: %s", strerror(errno));
        goto fail;
    }
    buf = malloc(RULESET_MAX_FILE_SIZE + 1);
    if (buf == NULL) {
        rule_problems_add(problems, path, 0, 0, "out of memory");
        goto fail;
    }
    len = fread(buf, 1, RULESET_MAX_FILE_SIZE + 1, fp);
    if (ferror(fp)) {
        rule_problems_add(problems, path, 0, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    if (len > RULESET_MAX_FILE_SIZE) {
        rule_problems_add(problems, path, 0, 0, "larger than %d bytes", RULESET_MAX_FILE_SIZE);
        goto fail;
    }
    fclose(fp);
    *len_out = len;
    return buf;
fail:
    if (fp != NULL)
        fclose(fp);
    free(buf);
    return NULL;
}

static void rs_files_free(struct rs_file *files, size_t count)
{
    if (files == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free((char *)files[i].name);
        free(files[i].display);
        free((char *)files[i].text);
    }
    free(files);
}

struct ruleset *ruleset_load_dir(const char *dir, struct rule_problems *problems)
{
    DIR *d = NULL;
    struct rs_file *files = NULL;
    size_t count = 0;
    struct ruleset *rs = NULL;
    bool ok = true;

    d = opendir(dir);
    if (d == NULL) {
        rule_problems_add(problems, dir, 0, 0, "cannot open the rules folder: %s", strerror(errno));
        return NULL;
    }
    files = calloc(RULESET_MAX_FILES, sizeof(*files));
    if (files == NULL) {
        rule_problems_add(problems, dir, 0, 0, "out of memory");
        goto fail;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0) {
                rule_problems_add(problems, dir, 0, 0, "cannot list the rules folder: %s",
                                  strerror(errno));
                ok = false;
            }
            break;
        }
        if (de->d_name[0] == '.' || !rs_is_rule_name(de->d_name))
            continue;
        if (count == RULESET_MAX_FILES) {
            rule_problems_add(problems, dir, 0, 0, "more than %d rule files", RULESET_MAX_FILES);
            ok = false;
            break;
        }
        struct rs_file *f = &files[count];
        size_t plen = strlen(dir) + 1 + strlen(de->d_name) + 1;
        f->display = malloc(plen);
        f->name = strdup(de->d_name);
        if (f->display == NULL || f->name == NULL) {
            count++;
            rule_problems_add(problems, dir, 0, 0, "out of memory");
            goto fail;
        }
        snprintf(f->display, plen, "%s/%s", dir, de->d_name);
        count++;
        struct stat st;
        if (stat(f->display, &st) != 0) {
            rule_problems_add(problems, f->display, 0, 0, "cannot stat: %s", strerror(errno));
            ok = false;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            /* A folder named x.yaml: not a rule file; skip it like other
             * non-files, keeping the entry out of the hash. */
            free((char *)f->name);
            free(f->display);
            memset(f, 0, sizeof(*f));
            count--;
            continue;
        }
        f->text = rs_read_file(f->display, &f->len, problems);
        if (f->text == NULL)
            ok = false;
    }
    closedir(d);
    d = NULL;
    if (!ok)
        goto fail;
    rs = rs_load(files, count, problems);
fail:
    if (d != NULL)
        closedir(d);
    rs_files_free(files, count);
    return rs;
}
