package recipeinit

import (
	"fmt"
	"strings"
)

// semverPatterns are metadata-action's type=semver patterns remerge's
// placeholders spell the same way.
var semverPatterns = map[string]string{
	"{{version}}":                   "{version}",
	"{{major}}.{{minor}}":           "{major}.{minor}",
	"{{major}}":                     "{major}",
	"{{major}}.{{minor}}.{{patch}}": "{major}.{minor}.{patch}",
	"v{{version}}":                  "v{version}",
	"v{{major}}.{{minor}}":          "v{major}.{minor}",
	"v{{major}}":                    "v{major}",
}

// tags reads metadata-action's tags and flavor inputs. With no tags input
// metadata-action's default applies: type=ref,event=tag, i.e. the git tag.
func (d *Draft) tags(in, flavor string) {
	d.Latest = "latest"
	if strings.Contains(strings.ReplaceAll(flavor, " ", ""), "latest=false") {
		d.Latest = ""
	}
	if strings.TrimSpace(in) == "" {
		d.Release = "{ref}"
		return
	}
	for _, line := range strings.Split(in, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		attrs := map[string]string{}
		for _, kv := range strings.Split(line, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			attrs[k] = v
		}
		d.rule(line, attrs)
	}
	if d.Release == "" {
		d.Release = "{ref}"
		d.note("no type=semver,pattern={{version}} or type=ref,event=tag rule: the release tag is taken as the git tag ({ref})")
	}
}

// rule reads one tags line.
func (d *Draft) rule(line string, attrs map[string]string) {
	if attrs["enable"] != "" || attrs["prefix"] != "" || attrs["suffix"] != "" || attrs["value"] != "" && attrs["type"] == "semver" {
		d.note("tags %q: enable, prefix, suffix and value attributes are not read", line)
		return
	}
	switch attrs["type"] {
	case "semver":
		tpl, ok := semverPatterns[attrs["pattern"]]
		if !ok {
			d.note("tags %q: pattern not read", line)
			return
		}
		if d.Release == "" && strings.Contains(tpl, "{version}") {
			d.Release = tpl
			return
		}
		d.Also = append(d.Also, tpl)
	case "ref":
		switch attrs["event"] {
		case "tag":
			if d.Release == "" {
				d.Release = "{ref}"
			}
		case "branch", "pr":
			// Branch and pull-request builds are not releases remerge heals.
		default:
			d.note("tags %q: not read", line)
		}
	case "sha":
		if attrs["format"] == "long" {
			d.note("tags %q: long sha tags are not read", line)
			return
		}
		d.SHA = "sha-{sha7}"
	case "raw":
		if attrs["value"] == "latest" {
			d.Latest = "latest"
			return
		}
		d.note("tags %q: a raw tag is not tied to the release: not read", line)
	default:
		d.note("tags %q: type %q not read", line, attrs["type"])
	}
}

// YAML is the config file for the draft, in the contract's keys.
func (d *Draft) YAML() string {
	var b strings.Builder
	b.WriteString("# written by remerge init from a multi-runner workflow; check it\n")
	fmt.Fprintf(&b, "platforms: [%s]\n", strings.Join(d.Platforms, ", "))
	b.WriteString("targets:\n")
	for _, t := range d.Targets {
		fmt.Fprintf(&b, "  - name: %s\n    repo: %s\n", t.Name, t.Repo)
	}
	b.WriteString("tags:\n")
	fmt.Fprintf(&b, "  release: %q\n", d.Release)
	if d.Latest != "" {
		fmt.Fprintf(&b, "  latest: %q\n", d.Latest)
	} else {
		b.WriteString("  latest: \"\"   # flavor latest=false: the pipeline writes no latest\n")
	}
	if d.SHA != "" {
		fmt.Fprintf(&b, "  sha: %q\n", d.SHA)
	}
	if len(d.Also) > 0 {
		q := make([]string, len(d.Also))
		for i, a := range d.Also {
			q[i] = fmt.Sprintf("%q", a)
		}
		fmt.Fprintf(&b, "  also: [%s]\n", strings.Join(q, ", "))
	}
	return b.String()
}
