# bash completion for karmor
_karmor() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
  local remote="--plain-http --insecure --ca-file --cert-file --key-file --registry-config -u --username --password-stdin -v --verbose --oci-layout"
  case "${COMP_WORDS[1]}" in
    oci)
      case "${COMP_WORDS[2]}" in
        push) COMPREPLY=($(compgen -W "-i --image -p --policy --format -a --annotation --attach --force --dry-run -r --recursive --skip-validation --sign --signature-format --output -q --quiet $remote" -- "$cur")) ;;
        pull) COMPREPLY=($(compgen -W "-i --image -o --output-dir -d --directory --force --skip-validation --verify-key --verify-annotation --signed-identity --output -q --quiet $remote" -- "$cur")) ;;
        inspect) COMPREPLY=($(compgen -W "-i --image --key --signed-identity --output $remote" -- "$cur")) ;;
        sign) COMPREPLY=($(compgen -W "-i --image --key -a --annotation --signature-format --signed-identity --output -q --quiet $remote" -- "$cur")) ;;
        verify) COMPREPLY=($(compgen -W "-i --image --key -a --annotation --signed-identity --output $remote" -- "$cur")) ;;
        login|logout) COMPREPLY=($(compgen -W "-u --username --password-stdin --registry-config" -- "$cur")) ;;
        key) COMPREPLY=($(compgen -W "generate --output-key-prefix --force" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "push pull inspect sign verify login logout key" -- "$cur")) ;;
      esac
      case "$prev" in
        -p|--policy|-o|--output-dir|-d|--directory|--ca-file|--cert-file|--key-file|--registry-config|--key|--sign|--verify-key) COMPREPLY=($(compgen -f -- "$cur")) ;;
        --format) COMPREPLY=($(compgen -W "yaml json" -- "$cur")) ;;
        --output) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
        --signature-format) COMPREPLY=($(compgen -W "legacy bundle both" -- "$cur")) ;;
      esac ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "oci version completion --help" -- "$cur")) ;;
  esac
}
complete -F _karmor karmor
