# fish completion for karmor
complete -c karmor -f -n '__fish_use_subcommand' -a 'oci version completion'
complete -c karmor -f -n '__fish_seen_subcommand_from oci; and not __fish_seen_subcommand_from push pull inspect sign verify login logout key' -a 'push pull inspect sign verify login logout key'
complete -c karmor -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -s i -l image -r -d 'reference'
complete -c karmor -f -n '__fish_seen_subcommand_from key; and not __fish_seen_subcommand_from generate' -a 'generate'
complete -c karmor -n '__fish_seen_subcommand_from generate' -l output-key-prefix -r -F -d 'write NAME.key and NAME.pub'
complete -c karmor -n '__fish_seen_subcommand_from generate' -l force -d 'replace existing key files'
complete -c karmor -n '__fish_seen_subcommand_from push' -s p -l policy -r -F -d 'policy file or directory'
complete -c karmor -n '__fish_seen_subcommand_from push' -l format -x -a 'yaml json'
complete -c karmor -n '__fish_seen_subcommand_from push' -s a -l annotation -x -d 'KEY=VALUE'
complete -c karmor -n '__fish_seen_subcommand_from push' -l attach -d 'attach to the image (OCI referrers)'
complete -c karmor -n '__fish_seen_subcommand_from push' -l dry-run
complete -c karmor -n '__fish_seen_subcommand_from push pull' -l force
complete -c karmor -n '__fish_seen_subcommand_from pull' -s o -l output-dir -r -F -d 'output directory, - for stdout'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -l output -x -a 'text json'
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -l plain-http
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -l insecure
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -l ca-file -r -F
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify' -l oci-layout
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify login' -s u -l username -x
complete -c karmor -n '__fish_seen_subcommand_from push pull inspect sign verify login' -l password-stdin
complete -c karmor -n '__fish_seen_subcommand_from sign verify inspect' -l key -r -F -d 'private key (sign) or public key (verify, inspect)'
complete -c karmor -n '__fish_seen_subcommand_from sign verify' -s a -l annotation -x -d 'KEY=VALUE'
complete -c karmor -n '__fish_seen_subcommand_from sign push' -l signature-format -x -a 'legacy bundle both'
complete -c karmor -n '__fish_seen_subcommand_from sign verify pull inspect' -l signed-identity -x -d 'REGISTRY/REPO'
complete -c karmor -n '__fish_seen_subcommand_from push' -l sign -r -F -d 'sign what was pushed with this key'
complete -c karmor -n '__fish_seen_subcommand_from pull' -l verify-key -r -F -d 'pull only if a signature verifies under this key'
complete -c karmor -n '__fish_seen_subcommand_from pull' -l verify-annotation -x -d 'KEY=VALUE'
