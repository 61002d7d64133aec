"""Turn migrations/<engine>/NNNN_name.sql files into a C array,
tsr_migrations_<engine>[], for lib/store/migration.h.

Usage: embed.py ENGINE OUTPUT INPUT...
"""
import re
import sys


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        esc = esc.replace('\n', '\\n').replace('\t', '\\t')
        out.append('"%s"' % esc)
    return '\n\t    '.join(out) if out else '""'


def main(engine, output, inputs):
    if not re.fullmatch(r'[a-z]+', engine):
        sys.exit('bad engine name: %s' % engine)
    rows = []
    for i, path in enumerate(sorted(inputs, key=lambda p: p.rsplit('/', 1)[-1])):
        base = path.rsplit('/', 1)[-1]
        m = re.fullmatch(r'(\d{4})_([a-z0-9_]+)\.sql', base)
        if not m:
            sys.exit('bad migration file name: %s' % base)
        version = int(m.group(1))
        if version != i + 1:
            sys.exit('migrations must be numbered 1, 2, ... without gaps: %s' % base)
        with open(path, encoding='utf-8') as f:
            sql = f.read()
        rows.append('\t{ %d, "%s",\n\t    %s },' % (version, m.group(2), c_string(sql)))
    with open(output, 'w', encoding='utf-8') as f:
        f.write('/* Generated from migrations/%s/NNNN_name.sql; do not edit. */\n'
                % engine)
        f.write('#include "store/migration.h"\n\n')
        f.write('const struct tsr_migration tsr_migrations_%s[] = {\n' % engine)
        f.write('\n'.join(rows))
        f.write('\n};\n\nconst size_t tsr_migrations_%s_count =\n' % engine)
        f.write('    sizeof(tsr_migrations_%s) / sizeof(tsr_migrations_%s[0]);\n'
                % (engine, engine))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
