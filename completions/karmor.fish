# fish completion for karmor
complete -c karmor -f -n '__fish_use_subcommand' -a 'oci version completion'
complete -c karmor -f -n '__fish_seen_subcommand_from oci; and not __fish_seen_subcommand_from push pull inspect login logout key' -a 'push pull inspect login logout key'
complete -c karmor -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c karmor -f -n '__fish_seen_subcommand_from key; and not __fish_seen_subcommand_from generate' -a 'generate'
complete -c karmor -n '__fish_seen_subcommand_from generate' -l output-key-prefix -r -F -d 'write NAME.key and NAME.pub'
complete -c karmor -n '__fish_seen_subcommand_from generate' -l force -d 'replace existing key files'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -s i -l image -r -d 'reference'
complete -c karmor -n '__fish_seen_subcommand_from push' -s p -l policy -r -F -d 'policy file or directory'
complete -c karmor -n '__fish_seen_subcommand_from push' -l format -x -a 'yaml json'
complete -c karmor -n '__fish_seen_subcommand_from push' -s a -l annotation -x -d 'KEY=VALUE'
complete -c karmor -n '__fish_seen_subcommand_from push' -l attach -d 'attach to the image (OCI referrers)'
complete -c karmor -n '__fish_seen_subcommand_from push' -l dry-run
complete -c karmor -n '__fish_seen_subcommand_from push pull' -l force
complete -c karmor -n '__fish_seen_subcommand_from pull' -s o -l output-dir -r -F -d 'output directory, - for stdout'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -l output -x -a 'text json'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -l plain-http
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -l insecure
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -l ca-file -r -F
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect' -l oci-layout
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect login' -s u -l username -x
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect login' -l password-stdin
