/* SPDX-License-Identifier: MIT */
/*
 * What the files of the configuration module share (not an interface:
 * include/config.h is).  config.c drives a load and checks the
 * combinations of keys; config_keys.c is the table of keys and the
 * conversion of each value; config_ini.c reads the INI files and finds
 * the [tenant NAME] sections; config_secret.c reads the secret and key
 * files and checks their permissions; config_dump.c prints what was
 * loaded.
 */
#ifndef CONFIG_IMPL_H
#define CONFIG_IMPL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ini.h>

struct config;
struct kafka_conf;

#define FILE_MAX (256 * 1024) /* a configuration file is a few K */
#define SECRET_MAX 4096
#define SYNTAX_MAX 20 /* past this, it is not an INI file */
#define LINE_MAX_LEN (INI_MAX_LINE - 2) /* inih needs "\n" and NUL */

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define KIB 1024
#define MIB (1024 * 1024)

#define PRIVATE_BITS (S_IRGRP | S_IROTH)
/* Whoever can change these files can send the secret elsewhere. */
#define WRITE_BITS (S_IWGRP | S_IWOTH)

struct loader;

enum ktype {
	K_STR, /* text */
	K_SECRET, /* text that is never echoed */
	K_ENUM, /* one of choices[], stored as int */
	K_DURATION, /* seconds, int64_t */
	K_SIZE, /* bytes, 64 bits */
	K_INT, /* int or int64_t, by field size */
	K_BOOL, /* yes/no, stored as int */
	K_CHAR, /* a LEEF delimiter: one character or xHH */
	K_LIST, /* comma-separated, NULL-terminated char ** */
	K_LEVEL, /* log level, by log_level_parse() */
};

struct choice {
	const char *name;
	int value;
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off; /* where the value lands in struct config */
	size_t size; /* sizeof that field */
	const char *def; /* default text; NULL: none, or computed */
	int64_t min, max; /* numbers: range; text: max length (0: any) */
	const struct choice *choices; /* K_ENUM */
	int (*check)(struct loader *, const struct key *, const char *);
};

#define OFF(f) offsetof(struct config, f)
#define FIELD(f) OFF(f), sizeof(((struct config *)0)->f)

/* How many keys config_keys[] has (checked where it is defined). */
#define NKEYS 52

/* One line of the configuration file, as the reader serves it. */
struct line {
	const char *text;
	size_t len;
	int skip; /* reported already: served as blank */
};

/* One file read: the configuration, or one of [daemon] tenants_dir's. */
struct cfile {
	char *path;
	mode_t mode;
	char *data; /* its contents, wiped on the way out */
	size_t size;
	struct line *lines;
	size_t nlines;
	int in_dir; /* one of tenants_dir's: [tenant NAME] sections only */
};

/* A [tenant NAME] section found by discover(). */
struct tdef {
	char *name;
	struct cfile *file;
	int line; /* of its [tenant NAME] line */
	int end; /* of the next section's line, 0: the end of the file */
	char *tenant_id; /* its tenant_id, or NULL */
	int id_line;
};

/* Problems written so far, shared by the passes of every tenant. */
struct emitted {
	char **line; /* whole lines written */
	size_t nline, capline;
	struct same *same; /* "key: why" of tenants' problems */
	size_t nsame, capsame;
};

/* A problem several tenants have: written for SAME_MAX, then counted. */
#define SAME_MAX 5
struct same {
	char *what;
	unsigned long count;
};

/* Loading state: the file, the reader's position, what was set where. */
struct loader {
	const char *path; /* of the file being read */
	FILE *err;
	int check_only;
	int nerr;
	struct config *c;
	struct cfile *file; /* being read */
	size_t next; /* next line the reader serves */
	int lineno; /* line the handler is looking at */
	int given[NKEYS]; /* line a key was set on, 0: not given */
	const struct cfile *given_in[NKEYS]; /* ... in this file */
	unsigned char ok[NKEYS]; /* the value was accepted */
	unsigned char tgiven[NKEYS]; /* given in the tenant's own section */
	char unknown[64]; /* last unknown section reported */
	const char *tenant; /* the [tenant NAME] this pass reads, or NULL */
	int in_tenant; /* handling a key of that section */
	int finishing; /* checking combinations */
	struct emitted *emitted; /* or NULL: write every problem */
	const struct cfile *main; /* the configuration file */
	const char *base_path; /* relative names resolve beside it */
	struct setload *sl; /* discover(): what it found so far */
	const struct tdef *tdef; /* the section of ld->tenant */
};

#define KEY(f) (&config_keys[config_keys_index(OFF(f))])
#define GIVEN(ld, f) ((ld)->given[config_keys_index(OFF(f))] != 0)
#define OK(ld, f) ((ld)->ok[config_keys_index(OFF(f))] != 0)
/* Given with a bad value (reported): checks that depend on it are skipped. */
#define BAD(ld, f) (GIVEN(ld, f) && !OK(ld, f))

/* What every pass shares: the files read and the tenants found. */
struct setload {
	FILE *err;
	int check_only;
	int fatal; /* tenants defined twice, unnamed ...: no pass can go on */
	struct tdef *open; /* the last section found is this tenant's */
	size_t open_i;
	struct cfile *files; /* [0]: the configuration file */
	size_t nfiles;
	struct tdef *t;
	size_t nt, capt;
	struct emitted emitted;
	int nerr;
};

/* config.c */
/*
 * Problems: config_report() writes one line (counted in ld->nerr);
 * config_problem() names the key and where it was set;
 * config_problem_at() names a section and key not in the table.
 */
void config_report(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void config_problem(struct loader *, const struct key *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void config_problem_at(struct loader *, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/* A copy of s owned by the load; NULL (reported) when out of memory. */
char *config_sdup(struct loader *ld, const char *s);

/* config_ini.c */
/* inih's handlers: each key of the pass (a struct loader), and the
 * first look for [azure] tenant_id; inih's line reader over ld->file. */
int config_ini_handler(
    void *user, const char *section, const char *name, const char *value);
char *config_ini_reader(char *str, int num, void *stream);
/* Read f (its path set) into memory, lines split: 0, or -1 reported. */
int config_ini_read(struct loader *ld, struct cfile *f);
void config_ini_use_file(struct loader *ld, struct cfile *f);
void config_ini_cfile_reset(struct cfile *f);
/* Report the lines inih cannot read, once per file. */
void config_ini_find_syntax_errors(struct loader *ld);
/* Find every [tenant NAME] section, in the file and tenants_dir. */
void config_ini_discover(struct loader *ld, struct setload *sl);
int config_ini_azure_tid_handler(
    void *user, const char *section, const char *name, const char *value);

/* config_keys.c */
/* The table of keys (NKEYS of them) and the choices of two of them. */
extern const struct choice config_keys_cloud_choices[];
extern const struct choice config_keys_level_choices[];
extern const struct key config_keys[];
/* Where key k lands in c, and the index of the key at offset off. */
void *config_keys_field(struct config *c, const struct key *k);
const void *config_keys_cfield(const struct config *c, const struct key *k);
size_t config_keys_index(size_t off);
/* A K_ENUM key's choices (api's: the source adapters' names). */
const struct choice *config_keys_choices(const struct key *k);
/* Names for messages: a choice's, a NULL-terminated list joined. */
const char *config_keys_choice_name(const struct choice *ch, int64_t v);
const char *config_keys_join_names(
    const char *const *names, char *buf, size_t len);
/* A numeric key's value; a duration or size as the file would say it. */
int64_t config_keys_load_int(const struct config *c, const struct key *k);
void config_keys_fmt_duration(int64_t v, char *buf, size_t len);
void config_keys_fmt_size(uint64_t v, char *buf, size_t len);
/* Printable ASCII without spaces (names, host names). */
int config_keys_is_word(const char *s);
/* Free a K_LIST value; free a value, wiped when k is a secret. */
void config_keys_free_list(char **list);
void config_keys_wipe_free(char *v, const struct key *k);
/* Convert v and store it for k: 0, or -1 with the problem reported. */
int config_keys_set_value(
    struct loader *ld, const struct key *k, const char *v);
/* The key section/name (case-insensitive), or NULL; the section's
 * name as the table spells it, or NULL for an unknown section. */
const struct key *config_keys_find(const char *section, const char *name);
const char *config_keys_section(const char *section);

/* config_secret.c */
/* dir[0..dirlen) + "/" + name, owned by the load (NULL reported). */
char *config_secret_join_path(
    struct loader *ld, const char *dir, size_t dirlen, const char *name);
/* The file that set key k in this pass, or NULL. */
const struct cfile *config_secret_given_file(
    const struct loader *ld, const struct key *k);
/* Read the client secret file; check the credential files' access;
 * read the Kafka properties' files; check every other named file. */
void config_secret_load(struct loader *ld);
void config_secret_check_credentials(struct loader *ld);
void config_secret_kafka_files(struct loader *ld, struct kafka_conf *kc);
void config_secret_check_files(struct loader *ld);
/* Check that dir can be (or is) the state directory for k. */
void config_secret_check_dir(struct loader *ld, const struct key *k,
    const char *dir, int parent_will_do);

#endif
